"""Business hours in csgw.toml: `[hours]`, a channel's `hours` and a group's, each mistake one line
naming the key — all of them at once — and good ones read as written."""

from __future__ import annotations

from datetime import date

import pytest

from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings
from csgw.config.template import config_text


def write(tmp_path, text: str):
    path = tmp_path / "csgw.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_hours_are_read_as_written(tmp_path):
    settings = load_settings(write(tmp_path, """
[hours]
timezone = "Asia/Shanghai"
weekly = { mon = "09:00-12:00,13:30-18:00", sat = "00:00-24:00", sun = "" }
closed_dates = ["2026-10-01", 2026-10-02]

[[channels]]
plugin = "webchat"
account = "night"
hours = { weekly = { fri = "20:00-24:00" } }

[assignment.groups.vip]
hours = { timezone = "Europe/London", weekly = { tue = "9:00-17:00" } }
"""))
    assert settings.hours is not None
    assert settings.hours.weekly.ranges()[0] == ((540, 720), (810, 1080))
    assert settings.hours.weekly.ranges()[5] == ((0, 1440),) and settings.hours.weekly.ranges()[6] == ()
    assert settings.hours.closed_dates == [date(2026, 10, 1), date(2026, 10, 2)]
    assert settings.channels[0]["hours"] == {"weekly": {"fri": "20:00-24:00"}}
    assert settings.assignment.groups["vip"].hours.weekly.ranges()[1] == ((540, 1020),)
    assert load_settings(write(tmp_path, "")).hours is None


def test_every_mistake_in_hours_is_one_line(tmp_path):
    path = write(tmp_path, """
[hours]
timezone = "Mars/Olympus"
weekly = { monday = "09:00-18:00", tue = "18:00-09:00", wed = "09:00-25:00", thu = "0900-1800", fri = 9, sat = "09:00-12:00,11:00-13:00" }
closed_dates = ["2026-10-01", "2026-13-01", "tomorrow"]

[assignment.groups.vip]
hours = { closed_dates = ["2026-02-30"] }
""")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    lines = [line.removeprefix(f"{path}: ") for line in caught.value.lines]
    expected = [
        ("hours.timezone:", "unknown time zone 'Mars/Olympus'"),
        ("hours.weekly.monday:", "unknown key"),
        ("hours.weekly.tue:", "'18:00-09:00' ends before it starts"),
        ("hours.weekly.wed:", "'25:00' is not a time of day"),
        ("hours.weekly.thu:", "'0900' is not a time of day (HH:MM"),
        ("hours.weekly.fri:", "expected a string of ranges"),
        ("hours.weekly.sat:", "'11:00-13:00' overlaps"),
        ("hours.closed_dates[1]:", "'2026-13-01' is not a date (YYYY-MM-DD"),
        ("hours.closed_dates[2]:", "'tomorrow' is not a date"),
        ("assignment.groups.vip.hours.closed_dates[0]:", "'2026-02-30' is not a date"),
    ]
    for key, message in expected:
        assert any(line.startswith(key) and message in line for line in lines), (key, lines)
    assert len(lines) == len(expected), lines


def test_a_channels_hours_are_checked_whatever_its_plugin(tmp_path):
    path = write(tmp_path, """
[[channels]]
plugin = "webchat"
account = "a"
hours = { weekly = { sun = "10:00-09:30" }, open = true }

[[channels]]
plugin = "wechat_oa"
account = "b"
hours = { timezone = "Asia/Shanghia" }
""")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert [line.removeprefix(f"{path}: ") for line in caught.value.lines] == [
        "channels[0].hours.weekly.sun: Value error, '10:00-09:30' ends before it starts (a day runs 00:00-24:00)"
        " (got '10:00-09:30')",
        "channels[0].hours.open: unknown key",
        "channels[1].hours.timezone: Value error, unknown time zone 'Asia/Shanghia' (an IANA name such as"
        " \"Asia/Shanghai\") (got 'Asia/Shanghia')",
    ]


def test_the_init_templates_hours_load_once_uncommented(tmp_path):
    text = config_text(demo=False)
    hours = text.split("# [hours]\n", 1)[1].split("\n\n", 1)[0]
    group = text.split("# [assignment.groups.\"夜班\"]", 1)[1].split("\n\n", 1)[0].split("\n", 1)[1]
    uncommented = "\n".join(line.removeprefix("# ") for line in (hours + "\n").splitlines())
    settings = load_settings(write(tmp_path, f"[hours]\n{uncommented}\n[assignment.groups.\"夜班\"]\n"
                                             f"{group.removeprefix('# ')}\n"))
    assert settings.hours is not None and settings.hours.timezone == "Asia/Shanghai"
    assert settings.hours.weekly.ranges()[0] == ((540, 720), (810, 1080))
    assert settings.assignment.groups["夜班"].hours.weekly.ranges()[0] == ((1080, 1440),)
