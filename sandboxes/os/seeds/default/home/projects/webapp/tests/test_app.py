import unittest
from pathlib import Path

from app import render


class RenderTest(unittest.TestCase):
    def test_rows_are_escaped(self) -> None:
        page = render([{"name": "<b>x</b>", "plan": "business", "monthly_eur": "10"}])
        self.assertIn("&lt;b&gt;x&lt;/b&gt;", page)

    def test_template_exists(self) -> None:
        self.assertTrue((Path(__file__).parent.parent / "templates" / "index.html").exists())


if __name__ == "__main__":
    unittest.main()
