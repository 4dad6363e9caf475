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
# "Join <programme>" (the value is the programme's id): the join picker and invitations.
JOIN_PROGRAMME = "join_programme"
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
HOW_TO_COACH = "how_to_coach"
COACHING_GUIDE_MODAL = "coaching_guide_modal"
COMMITMENT_DONE = "commitment_done"
COMMITMENT_PARTLY = "commitment_partly"
COMMITMENT_NOT_YET = "commitment_not_yet"
RESUME_FROM_DM = "resume_from_dm"
# Meeting times on the intro
PICK_SLOT = "pick_slot"
TIME_DOESNT_WORK = "time_doesnt_work"
ADD_TO_CALENDAR = "add_to_calendar"

# Working hours (in the profile modal, and their own modal from the App Home)
HOME_WORKING_HOURS = "home_working_hours"
WORKING_HOURS_MODAL = "working_hours_modal"
WORK_START_BLOCK, WORK_START_ACTION = "work_start_block", "work_start_select"
WORK_END_BLOCK, WORK_END_ACTION = "work_end_block", "work_end_select"
WORK_DAYS_BLOCK, WORK_DAYS_ACTION = "work_days_block", "work_days_checkboxes"
NO_MEETING_DAYS_BLOCK, NO_MEETING_DAYS_ACTION = "no_meeting_days_block", "no_meeting_days_boxes"
# Keep meeting this partner (pairs format): one button per number of rounds, and "end it".
KEEP_MEETING = "keep_meeting"
KEEP_MEETING_END = "keep_meeting_end"

# Reflection modal
REFLECTION_MODAL = "reflection_modal"
USEFULNESS_BLOCK, USEFULNESS_ACTION = "usefulness_block", "usefulness_select"
TAKEAWAY_BLOCK, TAKEAWAY_ACTION = "takeaway_block", "takeaway_input"
COMMITMENT_BLOCK, COMMITMENT_ACTION = "commitment_block", "commitment_input"
SHARE_BLOCK, SHARE_ACTION = "share_block", "share_checkbox"
GOAL_PROGRESS_BLOCK, GOAL_PROGRESS_ACTION = "goal_progress_block", "goal_progress_select"

# The anonymous feedback pulse
PULSE_OPEN = "pulse_open"
PULSE_MODAL = "pulse_modal"
PULSE_SCORE_BLOCK, PULSE_SCORE_ACTION = "pulse_score_block", "pulse_score_select"
PULSE_SUGGESTION_BLOCK, PULSE_SUGGESTION_ACTION = "pulse_suggestion_block", "pulse_suggestion"
PULSE_SHARE_BLOCK, PULSE_SHARE_ACTION = "pulse_share_block", "pulse_share_checkbox"

# Personal goal and the agreement
GOAL_MODAL = "goal_modal"
GOAL_BLOCK, GOAL_ACTION = "goal_block", "goal_input"
HOME_GOAL = "home_goal"
AGREEMENT_MODAL = "agreement_modal"
AGREEMENT_BLOCK, AGREEMENT_ACTION = "agreement_block", "agreement_checkbox"
AGREEMENT_REVIEW = "agreement_review"

# Programme admin
SETTINGS_MODAL = "settings_modal"
PREVIEW_MODAL = "preview_modal"
CADENCE_BLOCK, CADENCE_ACTION = "cadence_block", "cadence_select"
DAY_BLOCK, DAY_ACTION = "day_block", "day_select"
HOUR_BLOCK, HOUR_ACTION = "hour_block", "hour_select"
TIMEZONE_BLOCK, TIMEZONE_ACTION = "timezone_block", "timezone_input"
GROUP_SIZE_BLOCK, GROUP_SIZE_ACTION = "group_size_block", "group_size_select"
FORMAT_BLOCK, FORMAT_ACTION = "format_block", "format_select"
SEASON_BLOCK, SEASON_ACTION = "season_block", "season_input"
CIRCLE_SIZE_BLOCK, CIRCLE_SIZE_ACTION = "circle_size_block", "circle_size_select"
KEEP_MAX_BLOCK, KEEP_MAX_ACTION = "keep_max_block", "keep_max_select"
PREFERENCES_BLOCK, PREFERENCES_ACTION = "preferences_block", "preferences_checkboxes"
GUESTS_BLOCK, GUESTS_ACTION = "guests_block", "guests_checkbox"
AUTO_SCHEDULE_BLOCK, AUTO_SCHEDULE_ACTION = "auto_schedule_block", "auto_schedule_select"
REPEAT_WINDOW_BLOCK, REPEAT_WINDOW_ACTION = "repeat_window_block", "repeat_window_input"
THEMES_BLOCK, THEMES_ACTION = "themes_block", "themes_select"
ADMINS_BLOCK, ADMINS_ACTION = "admins_block", "admins_select"
RETENTION_BLOCK, RETENTION_ACTION = "retention_block", "retention_input"
AGREEMENT_TEXT_BLOCK, AGREEMENT_TEXT_ACTION = "agreement_text_block", "agreement_text_input"
HARD_RULES_BLOCK, HARD_RULES_ACTION = "hard_rules_block", "hard_rules_checkboxes"
SHARED_HOURS_BLOCK, SHARED_HOURS_ACTION = "shared_hours_block", "shared_hours_input"
ORG_IMPORT_MODAL = "org_import_modal"
ORG_FILE_BLOCK, ORG_FILE_ACTION = "org_file_block", "org_file_input"
PULSE_EVERY_BLOCK, PULSE_EVERY_ACTION = "pulse_every_block", "pulse_every_input"
ADMIN_SETTINGS = "admin_settings"
ADMIN_PREVIEW = "admin_preview"
ADMIN_RUN_NOW = "admin_run_now"
# "Start another round anyway" after being told a round started moments ago.
ADMIN_RUN_ANYWAY = "admin_run_anyway"
ADMIN_EXPORT = "admin_export"

# A person's own data (App Home, delete-my-data confirmation, after leaving)
HOME_EXPORT_DATA = "home_export_data"
HOME_DELETE_DATA = "home_delete_data"
DELETE_DATA_CONFIRM = "delete_data_confirm"
DELETE_DATA_CANCEL = "delete_data_cancel"
