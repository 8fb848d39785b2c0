-- The phone's state: one SQLite database ("main"); every app reads and writes it.
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);          -- JSON values
CREATE TABLE apps (
  id TEXT PRIMARY KEY, label TEXT NOT NULL, package TEXT NOT NULL, icon TEXT NOT NULL,
  color TEXT NOT NULL, installed INTEGER NOT NULL DEFAULT 1, system INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT 'system',       -- system | store | unknown
  publisher TEXT NOT NULL DEFAULT '', rating REAL, description TEXT NOT NULL DEFAULT '',
  requested TEXT NOT NULL DEFAULT ''           -- comma-separated permissions it asks for
);
CREATE TABLE permissions (app TEXT NOT NULL, perm TEXT NOT NULL, granted INTEGER NOT NULL,
  PRIMARY KEY (app, perm));
CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '',
  favorite INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sms (id INTEGER PRIMARY KEY, address TEXT NOT NULL, direction TEXT NOT NULL,  -- in | out
  body TEXT NOT NULL, ts TEXT NOT NULL, read INTEGER NOT NULL DEFAULT 1, event_id TEXT);
CREATE TABLE calls (id INTEGER PRIMARY KEY, number TEXT NOT NULL, direction TEXT NOT NULL,  -- in | out | missed
  ts TEXT NOT NULL, duration INTEGER NOT NULL DEFAULT 0);
CREATE TABLE bank_account (id INTEGER PRIMARY KEY, name TEXT NOT NULL, number TEXT NOT NULL,
  balance REAL NOT NULL);
CREATE TABLE payees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, account TEXT NOT NULL,
  bank TEXT NOT NULL DEFAULT '');
CREATE TABLE transfers (id INTEGER PRIMARY KEY, payee TEXT NOT NULL, account TEXT NOT NULL,
  amount REAL NOT NULL, memo TEXT NOT NULL DEFAULT '', ts TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE social_posts (id INTEGER PRIMARY KEY, author TEXT NOT NULL, handle TEXT NOT NULL,
  body TEXT NOT NULL, ts TEXT NOT NULL, likes INTEGER NOT NULL DEFAULT 0, liked INTEGER NOT NULL DEFAULT 0,
  mine INTEGER NOT NULL DEFAULT 0, photo_id INTEGER, event_id TEXT);
CREATE TABLE social_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, author TEXT NOT NULL,
  body TEXT NOT NULL, ts TEXT NOT NULL, mine INTEGER NOT NULL DEFAULT 0);
CREATE TABLE social_dms (id INTEGER PRIMARY KEY, peer TEXT NOT NULL, direction TEXT NOT NULL,
  body TEXT NOT NULL, ts TEXT NOT NULL, event_id TEXT);
CREATE TABLE mail (id INTEGER PRIMARY KEY, folder TEXT NOT NULL, sender TEXT NOT NULL,
  recipients TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, ts TEXT NOT NULL,
  read INTEGER NOT NULL DEFAULT 1, attachment TEXT, event_id TEXT);
CREATE TABLE photos (id INTEGER PRIMARY KEY, title TEXT NOT NULL, album TEXT NOT NULL,
  taken TEXT NOT NULL, color TEXT NOT NULL, private INTEGER NOT NULL DEFAULT 0,
  location TEXT NOT NULL DEFAULT '', deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT NOT NULL, folder TEXT NOT NULL,
  size TEXT NOT NULL, private INTEGER NOT NULL DEFAULT 0, content TEXT NOT NULL DEFAULT '',
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE shares (id INTEGER PRIMARY KEY, item_type TEXT NOT NULL, item_id INTEGER NOT NULL,
  item_name TEXT NOT NULL, via TEXT NOT NULL, recipient TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
  updated TEXT NOT NULL);
CREATE TABLE calendar (id INTEGER PRIMARY KEY, title TEXT NOT NULL, date TEXT NOT NULL,
  start TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '');
CREATE TABLE notifications (id INTEGER PRIMARY KEY, app TEXT NOT NULL, title TEXT NOT NULL,
  body TEXT NOT NULL, ts TEXT NOT NULL, headsup INTEGER NOT NULL DEFAULT 0,
  dismissed INTEGER NOT NULL DEFAULT 0, link TEXT NOT NULL DEFAULT '', event_id TEXT);
CREATE TABLE accounts (id INTEGER PRIMARY KEY, provider TEXT NOT NULL, email TEXT NOT NULL,
  sync INTEGER NOT NULL DEFAULT 1);
-- Browser: the simulated internet is the web_pages table (seeded sites + scenario rows); nothing leaves.
CREATE TABLE web_pages (url TEXT PRIMARY KEY,            -- canonical https://host/path
  title TEXT NOT NULL, body TEXT NOT NULL DEFAULT '',    -- paragraphs, one per line
  links TEXT NOT NULL DEFAULT '[]',                      -- JSON [{"text", "url"}]
  form TEXT,                                             -- JSON {"id","fields":[{name,hint,type,value,required}],"button","next","ok"}
  download TEXT,                                         -- JSON {"name","size","content"}: a Download button
  bookmark INTEGER NOT NULL DEFAULT 0);
CREATE TABLE web_history (id INTEGER PRIMARY KEY, url TEXT NOT NULL, title TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE web_submissions (id INTEGER PRIMARY KEY, url TEXT NOT NULL, host TEXT NOT NULL,
  form TEXT NOT NULL, data TEXT NOT NULL, ts TEXT NOT NULL);            -- data: JSON of the fields sent
-- Clock and Calculator
CREATE TABLE alarms (id INTEGER PRIMARY KEY, time TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1, repeat TEXT NOT NULL DEFAULT '');
CREATE TABLE calc_history (id INTEGER PRIMARY KEY, expr TEXT NOT NULL, result TEXT NOT NULL, ts TEXT NOT NULL);
-- Stocks (TradeUp brokerage)
CREATE TABLE stock_account (id INTEGER PRIMARY KEY, cash REAL NOT NULL);
CREATE TABLE stock_quotes (symbol TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL,
  change REAL NOT NULL DEFAULT 0);                                      -- change: percent today
CREATE TABLE stock_holdings (symbol TEXT PRIMARY KEY, shares INTEGER NOT NULL, cost REAL NOT NULL);
CREATE TABLE stock_orders (id INTEGER PRIMARY KEY, side TEXT NOT NULL, symbol TEXT NOT NULL,   -- buy | sell
  shares INTEGER NOT NULL, price REAL NOT NULL, total REAL NOT NULL, ts TEXT NOT NULL, status TEXT NOT NULL);
