# shellcheck shell=bash disable=SC2016,SC2034
# (SC2016: the node -e programs below are JavaScript in single quotes on purpose; SC2034: the variables are
# read by the scripts that source this file.)
# Talking to the bot that scripts/run-local.sh runs offline: posting updates to its webhook as Telegram would,
# and reading what it sent back from the fake Bot API's record of calls (/_fake/calls). Sourced by
# scripts/run-local.sh and scripts/chat.sh.

: "${WEBHOOK_URL:=http://127.0.0.1:8080/telegram/webhook}"
: "${FAKE_URL:=http://127.0.0.1:8081}"
: "${Telegram__WebhookSecret:=local-development-secret}"
: "${CHAT_ID:=1}"

# The next update_id: from the clock (100 a second), so that a new session does not repeat one the inbox already
# holds (a repeated id is acknowledged and dropped, as Telegram's retries are). Telegram's ids are 32-bit.
next_update_id=$(( $(date +%s) % 10000000 * 100 ))

# post_update JSON-WITHOUT-update_id: posts {"update_id": next, ...}; the webhook's status code is left in
# webhook_status (not printed: a command substitution would run it in a subshell and lose the id's increment).
webhook_status=
post_update() {
  next_update_id=$((next_update_id + 1))
  webhook_status=$(curl -s -o /dev/null -w '%{http_code}' \
    -H "X-Telegram-Bot-Api-Secret-Token: $Telegram__WebhookSecret" -H 'Content-Type: application/json' \
    -d "{\"update_id\":$next_update_id,$1}" "$WEBHOOK_URL")
}

# json_string TEXT: TEXT as a JSON string literal.
json_string() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }

# post_text TEXT: a private message from user CHAT_ID.
post_text() {
  post_update "\"message\":{\"message_id\":$((next_update_id % 1000000 + 1)),\"date\":$(date +%s),\"chat\":{\"id\":$CHAT_ID,\"type\":\"private\",\"first_name\":\"You\"},\"from\":{\"id\":$CHAT_ID,\"is_bot\":false,\"first_name\":\"You\",\"language_code\":\"en\"},\"text\":$(json_string "$1")}"
}

# post_button DATA MESSAGE_ID: the user presses the inline button with callback data DATA under message MESSAGE_ID.
post_button() {
  post_update "\"callback_query\":{\"id\":\"local-$((next_update_id + 1))\",\"chat_instance\":\"local\",\"from\":{\"id\":$CHAT_ID,\"is_bot\":false,\"first_name\":\"You\",\"language_code\":\"en\"},\"message\":{\"message_id\":${2:-1},\"date\":$(date +%s),\"chat\":{\"id\":$CHAT_ID,\"type\":\"private\"}},\"data\":$(json_string "$1")}"
}

# last_call_seq: the newest call the fake has recorded for CHAT_ID (0 when none).
last_call_seq() {
  curl -sf "$FAKE_URL/_fake/calls?chat_id=$CHAT_ID" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const calls = JSON.parse(s || "[]"); console.log(calls.reduce((m, c) => Math.max(m, c.seq), 0));
    });'
}

# print_replies SINCE WAIT_SECONDS: waits up to WAIT_SECONDS for the bot's first call to CHAT_ID after call SINCE,
# then a little longer for the rest, and prints each delivered message (text, then its buttons as
# "[label] data"), prefixed with "bot> ". Prints the newest seq seen on its last line as "seq N" for the caller.
print_replies() {
  local since=$1 wait=$2 deadline body
  deadline=$(( $(date +%s%N) / 1000000 + wait * 1000 ))
  while :; do
    body=$(curl -sf "$FAKE_URL/_fake/calls?chat_id=$CHAT_ID" || echo '[]')
    if node -e 'const c = JSON.parse(process.argv[1]); process.exit(c.some((x) => x.seq > Number(process.argv[2]) && x.delivered) ? 0 : 1)' "$body" "$since"; then
      sleep 1.2
      body=$(curl -sf "$FAKE_URL/_fake/calls?chat_id=$CHAT_ID" || echo '[]')
      break
    fi
    if (( $(date +%s%N) / 1000000 > deadline )); then break; fi
    sleep 0.2
  done
  node -e '
    const calls = JSON.parse(process.argv[1]).filter((c) => c.seq > Number(process.argv[2])).sort((a, b) => a.seq - b.seq);
    let newest = Number(process.argv[2]);
    let shown = 0;
    for (const call of calls) {
      newest = Math.max(newest, call.seq);
      if (!call.delivered) continue;
      shown++;
      const verb = call.method === "sendMessage" ? "" : `(${call.method}) `;
      console.log(`bot> ${verb}${(call.text ?? "").replace(/\n/g, "\nbot> ")}`);
      const keyboard = call.body?.reply_markup?.inline_keyboard ?? [];
      for (const row of keyboard) console.log("       " + row.map((b) => `[${b.text}] ${b.callback_data ?? b.url ?? ""}`).join("   "));
      if (call.message_id) console.log(`message ${call.message_id}`);
    }
    if (shown === 0) console.log("bot> (no reply yet)");
    console.log(`seq ${newest}`);
  ' "$body" "$since"
}
