# Copy to instance/config.py (or run `helpdesk init`, which writes one for you).
# Read after the defaults and before HELPDESK_* environment variables.
# HELPDESK_NAME = "Acme Support"
# EXTERNAL_URL = "https://support.example.com"   # links in mail are built from this
# TRUSTED_HOSTS = ["support.example.com"]
# MAIL_FROM = "support@example.com"
# SMTP_HOST = "smtp.example.com"                  # empty: mail is kept in Admin -> Outbox
# DATABASE_URL = "postgresql://user@localhost/helpdesk"
# REDIS_URL = "redis://localhost:6379/0"
