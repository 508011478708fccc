"""The Microsoft Teams side of vertaisbot: a sibling of `bot/` + `handlers/` over the same services.

Only this package and the `teams` command of `bot.__main__` import the Teams SDK (the `teams`
extra: `pip install '.[teams]'`); the Slack bot runs without it. `build_teams_app` (teams/app.py)
is the composition root, `teams/guard.py` checks every inbound body before the SDK sees it,
`teams/package.py` builds the app package that Teams sideloads.
"""
