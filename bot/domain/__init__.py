"""Plain types shared by services, jobs and views: no database, no Slack, no Block Kit logic."""
