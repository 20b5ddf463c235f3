// A minimal grammY webhook bot as the reference point for our bot: Node's http server, grammY's webhookCallback
// with the secret token, and one reply per message sent through the Bot API at API_ROOT (the fake Bot API),
// awaited inside the webhook request as a grammY bot does by default. No storage: an update is gone if the
// process dies before its reply, which is the difference our inbox pays for.
//   PORT=8090 API_ROOT=http://127.0.0.1:8081 BOT_TOKEN=1:x WEBHOOK_SECRET=s node grammy-bot.mjs
import http from 'node:http';
import { Bot, webhookCallback } from 'grammy';

const { PORT = '8090', API_ROOT, BOT_TOKEN, WEBHOOK_SECRET } = process.env;
if (!API_ROOT || !BOT_TOKEN || !WEBHOOK_SECRET) {
  console.error('grammy-bot: API_ROOT, BOT_TOKEN and WEBHOOK_SECRET are required');
  process.exit(2);
}

const bot = new Bot(BOT_TOKEN, {
  client: { apiRoot: API_ROOT },
  // Known in advance, so that start-up makes no getMe call.
  botInfo: {
    id: Number(BOT_TOKEN.split(':')[0]), is_bot: true, first_name: 'Reference', username: 'reference_bot',
    can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false,
    can_connect_to_business: false, has_main_web_app: false,
  },
});
bot.command('help', (ctx) => ctx.reply('Commands: /start, /stop, /help, /lang', { reply_parameters: { message_id: ctx.msg.message_id } }));
bot.on('message', (ctx) => ctx.reply('Send /help to see what I can do.', { reply_parameters: { message_id: ctx.msg.message_id } }));
bot.catch((err) => console.error('grammy-bot: handler failed:', err.message));

const handle = webhookCallback(bot, 'http', { secretToken: WEBHOOK_SECRET });
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/telegram/webhook') {
    handle(req, res).catch(() => { if (!res.headersSent) { res.statusCode = 500; res.end(); } });
  } else {
    res.statusCode = 404;
    res.end();
  }
});
server.keepAliveTimeout = 65000;
server.listen(Number(PORT), '127.0.0.1', () => console.log(`grammy-bot listening on 127.0.0.1:${PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
