"""The public web archive of sent editions (an entry point): list, one page per edition in the
site's RTL layout (the email's stories, per-recipient links replaced by the signup link), and an
RSS feed. Thin views over newsletter.email.render."""
