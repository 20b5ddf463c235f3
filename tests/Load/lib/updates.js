// Telegram updates as the Bot API delivers them, shared by the k6 scenarios (plain ES module, no k6 imports).
// Every builder takes the update_id and a user id; private chats have the user's id.

const user = (id) => ({ id, is_bot: false, first_name: 'Load', username: `load${id}`, language_code: id % 5 === 0 ? 'ru' : 'en' });
const privateChat = (id) => ({ id, type: 'private', first_name: 'Load' });
const now = () => Math.floor(Date.now() / 1000);

export function command(updateId, userId, name) {
  const text = `/${name}`;
  return {
    update_id: updateId,
    message: {
      message_id: updateId % 2147483647, date: now(), chat: privateChat(userId), from: user(userId), text,
      entities: [{ type: 'bot_command', offset: 0, length: text.length }],
    },
  };
}

export function text(updateId, userId, body) {
  return {
    update_id: updateId,
    message: { message_id: updateId % 2147483647, date: now(), chat: privateChat(userId), from: user(userId), text: body },
  };
}

export function callback(updateId, userId, data) {
  return {
    update_id: updateId,
    callback_query: {
      id: `cb${updateId}`, from: user(userId), chat_instance: `ci${userId}`, data,
      message: { message_id: 1, date: now(), chat: privateChat(userId), from: { id: 1, is_bot: true, first_name: 'Bot' }, text: 'pick one' },
    },
  };
}

export function joinRequest(updateId, userId, chatId) {
  return {
    update_id: updateId,
    chat_join_request: {
      chat: { id: chatId, type: 'supergroup', title: 'Load community' }, from: user(userId), user_chat_id: userId, date: now(),
    },
  };
}

/**
 * The interactive mix of a community bot's day: mostly commands and chatter, some buttons, some join requests.
 * `roll` is uniform in [0, 1).
 */
export function interactive(updateId, userId, roll, gatedChatId) {
  if (roll < 0.30) return command(updateId, userId, 'help');
  if (roll < 0.40) return command(updateId, userId, 'start');
  if (roll < 0.45) return command(updateId, userId, 'lang');
  if (roll < 0.50) return command(updateId, userId, 'stop');
  if (roll < 0.75) return text(updateId, userId, `hello ${updateId}`);
  if (roll < 0.90) return callback(updateId, userId, `answer:${updateId % 4}`);
  return joinRequest(updateId, userId, gatedChatId);
}
