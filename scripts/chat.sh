#!/usr/bin/env bash
# Talk to the local bot from the terminal. Start scripts/run-local.sh (offline, without Telegram__BotToken) in
# another terminal, then:
#   scripts/chat.sh                 type messages; the bot's replies are printed with their buttons
#   echo /help | scripts/chat.sh    one message and its replies
# Each line goes to the bot's webhook as a private message from user 1 (CHAT_ID). A line "!press DATA" presses the
# inline button whose data is DATA (as listed under a reply) on the last message that had buttons. The replies are
# what the fake Bot API received from the bot, so they show exactly what Telegram would get.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib/local-chat.sh"
wait_seconds=${REPLY_WAIT_SECONDS:-6}

if ! curl -sf -o /dev/null "$FAKE_URL/_fake/stats" || ! curl -sf -o /dev/null http://127.0.0.1:9090/readyz; then
  echo "chat: the local bot is not running: start scripts/run-local.sh in another terminal first" >&2
  exit 1
fi
since=$(last_call_seq)
last_message=1
[[ -t 0 ]] && echo "chat: you are user $CHAT_ID in a private chat with the bot; try /start or /help (Ctrl+D ends)"
while IFS= read -r -p "$( [[ -t 0 ]] && echo 'you> ')" line || [[ -n "$line" ]]; do
  [[ -n "$line" ]] || continue
  if [[ "$line" == '!press '* ]]; then
    post_button "${line#!press }" "$last_message"
  else
    post_text "$line"
  fi
  if [[ "$webhook_status" != 200 ]]; then
    echo "chat: the webhook answered $webhook_status" >&2
    continue
  fi
  output=$(print_replies "$since" "$wait_seconds")
  since=$(sed -n 's/^seq //p' <<<"$output" | tail -n 1)
  message=$(sed -n 's/^message //p' <<<"$output" | tail -n 1)
  [[ -z "$message" ]] || last_message=$message
  grep -v -E '^(seq|message) ' <<<"$output" || true
done
