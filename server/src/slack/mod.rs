//! Slack: the Web API port and its client, request signing, Block Kit messages, and the conversations and buttons of the Slack app.
