"""The messaging plugin's settings: each provider's secrets and API base URL."""
from __future__ import annotations

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext

PLUGIN = "messaging"

SETTINGS = [
    Setting("replay_window_seconds", "int", default=300, min=30, max=86400,
            label=lazy_gettext("Replay window (seconds)"),
            help=lazy_gettext("A webhook whose provider timestamp is older (or further ahead) than this is refused.")),
    Setting("team", "team", label=lazy_gettext("Team"),
            help=lazy_gettext("Team for new tickets from these channels (optional).")),
    # SMS, Twilio-style
    Setting("twilio_account_sid", "text", label=lazy_gettext("SMS: account SID")),
    Setting("twilio_auth_token", "secret", label=lazy_gettext("SMS: auth token"),
            help=lazy_gettext("Verifies X-Twilio-Signature on incoming texts and authenticates replies.")),
    Setting("twilio_from", "text", label=lazy_gettext("SMS: our number"),
            help=lazy_gettext("The number replies are sent from (+15550001111).")),
    Setting("twilio_base_url", "url", default="https://api.twilio.com", label=lazy_gettext("SMS: API base URL")),
    # Telegram-style bots
    Setting("telegram_bot_token", "secret", label=lazy_gettext("Telegram: bot token")),
    Setting("telegram_secret_token", "secret", label=lazy_gettext("Telegram: webhook secret token"),
            help=lazy_gettext("Sent by the provider as X-Telegram-Bot-Api-Secret-Token.")),
    Setting("telegram_base_url", "url", default="https://api.telegram.org",
            label=lazy_gettext("Telegram: API base URL")),
    # WhatsApp Cloud-style
    Setting("whatsapp_app_secret", "secret", label=lazy_gettext("WhatsApp: app secret"),
            help=lazy_gettext("Verifies X-Hub-Signature-256 on incoming messages.")),
    Setting("whatsapp_verify_token", "secret", label=lazy_gettext("WhatsApp: verify token"),
            help=lazy_gettext("Answers the provider's subscription handshake (GET with hub.verify_token).")),
    Setting("whatsapp_access_token", "secret", label=lazy_gettext("WhatsApp: access token")),
    Setting("whatsapp_phone_number_id", "text", label=lazy_gettext("WhatsApp: phone number id")),
    Setting("whatsapp_base_url", "url", default="https://graph.facebook.com/v19.0",
            label=lazy_gettext("WhatsApp: API base URL")),
    # Slack-style workplace chat
    Setting("slack_signing_secret", "secret", label=lazy_gettext("Slack: signing secret")),
    Setting("slack_bot_token", "secret", label=lazy_gettext("Slack: bot token")),
    Setting("slack_base_url", "url", default="https://slack.com/api", label=lazy_gettext("Slack: API base URL")),
    # Social, Mastodon-style
    Setting("social_webhook_secret", "secret", label=lazy_gettext("Social: webhook secret"),
            help=lazy_gettext("Verifies X-Hub-Signature-256 (sha256=HMAC of the body) on mentions and direct "
                              "messages.")),
    Setting("social_access_token", "secret", label=lazy_gettext("Social: access token")),
    Setting("social_base_url", "url", default="https://mastodon.example", label=lazy_gettext("Social: API base URL")),
]


def setting(name: str):  # noqa: ANN201 - the setting's own type
    return get_setting(PLUGIN, name)
