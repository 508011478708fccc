from tests.conftest import Bot


def test_help_in_finnish(bot: Bot) -> None:
    bot.api.locales["U0VISITOR"] = "fi-FI"
    reply = bot.slack.command("apua")
    assert reply.status == 200, reply.text
    print(reply.json())
