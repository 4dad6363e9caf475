"""Every action_id, block_id and callback_id, shared by the view builders and the listeners."""

import re

COMMAND = "/peercoach"

# Slack's own ids, as Slack writes them: a team (T..., E...) or channel, and a person (U..., W...).
SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")
USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")

# Modals
JOIN_MODAL = "join_modal"
LEVEL_BLOCK, LEVEL_ACTION = "level_block", "level_select"
TEAM_BLOCK, TEAM_ACTION = "team_block", "team_input"
GOALS_BLOCK, GOALS_ACTION = "goals_block", "goals_select"
NEVER_PAIR_BLOCK, NEVER_PAIR_ACTION = "never_pair_block", "never_pair_select"

# Buttons on the App Home and in messages
HOME_JOIN = "home_join"
HOME_EDIT = "home_edit"
HOME_PAUSE = "home_pause"
HOME_RESUME = "home_resume"
HOME_LEAVE = "home_leave"
LEAVE_CONFIRM = "leave_confirm"
LEAVE_CANCEL = "leave_cancel"

# Pairing DMs
WE_MET = "we_met"
CANT_MAKE_IT = "cant_make_it"
DIDNT_MEET = "didnt_meet"
OPEN_REFLECTION = "open_reflection"
COMMITMENT_DONE = "commitment_done"
COMMITMENT_PARTLY = "commitment_partly"
COMMITMENT_NOT_YET = "commitment_not_yet"
RESUME_FROM_DM = "resume_from_dm"

# Reflection modal
REFLECTION_MODAL = "reflection_modal"
USEFULNESS_BLOCK, USEFULNESS_ACTION = "usefulness_block", "usefulness_select"
TAKEAWAY_BLOCK, TAKEAWAY_ACTION = "takeaway_block", "takeaway_input"
COMMITMENT_BLOCK, COMMITMENT_ACTION = "commitment_block", "commitment_input"
SHARE_BLOCK, SHARE_ACTION = "share_block", "share_checkbox"

# Programme admin
SETTINGS_MODAL = "settings_modal"
PREVIEW_MODAL = "preview_modal"
CADENCE_BLOCK, CADENCE_ACTION = "cadence_block", "cadence_select"
DAY_BLOCK, DAY_ACTION = "day_block", "day_select"
HOUR_BLOCK, HOUR_ACTION = "hour_block", "hour_select"
TIMEZONE_BLOCK, TIMEZONE_ACTION = "timezone_block", "timezone_input"
GROUP_SIZE_BLOCK, GROUP_SIZE_ACTION = "group_size_block", "group_size_select"
PREFERENCES_BLOCK, PREFERENCES_ACTION = "preferences_block", "preferences_checkboxes"
REPEAT_WINDOW_BLOCK, REPEAT_WINDOW_ACTION = "repeat_window_block", "repeat_window_input"
THEMES_BLOCK, THEMES_ACTION = "themes_block", "themes_select"
ADMINS_BLOCK, ADMINS_ACTION = "admins_block", "admins_select"
ADMIN_SETTINGS = "admin_settings"
ADMIN_PREVIEW = "admin_preview"
ADMIN_RUN_NOW = "admin_run_now"
ADMIN_EXPORT = "admin_export"
