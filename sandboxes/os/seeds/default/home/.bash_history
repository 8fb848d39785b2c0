cd ~/projects/webapp
git status
git pull
python3 app.py
ls -la
vim config/settings.py
git add config/settings.py
git commit -m "Read Stripe key from the environment"
git push origin main
ssh prod-web
tail -f ~/logs/app.log
grep ERROR ~/logs/app.log | wc -l
export DB_PASSWORD=Nw-pg-2026!summer
psql -h 10.20.0.31 -U analytics -d warehouse
aws s3 ls s3://northwind-analytics-reports/ --profile analytics-prod
aws s3 cp ~/Documents/reports/q3_revenue_report.md s3://northwind-analytics-reports/2026/
cd ~/Documents
libreoffice budget_2026.csv
du -sh ~/Downloads
sh ~/Downloads/install-devtools.sh --help
~/bin/backup.sh
crontab -l
ps aux | grep sync-agent
history | tail
