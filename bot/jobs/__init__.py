"""The code that talks to Slack on the app's own initiative: the outbox sender, the minute
tick, channel invitations. Driven by the scheduler, the CLI, or a listener's background
work after its ack; never imports views (the renderer comes in through Deps)."""
