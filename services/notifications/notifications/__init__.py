"""notifications: e-mail over SMTP and in-portal notices for the Bildungsportal."""
