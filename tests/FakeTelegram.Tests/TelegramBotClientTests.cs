using FakeTelegram.Tests.Infrastructure;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace FakeTelegram.Tests;

/// <summary>The fake through the library the bot uses: requests it sends parse, answers it gets deserialize.</summary>
public sealed class TelegramBotClientTests
{
    private const string Token = "123456789:TEST-token_for-integration-tests-only";
    private const long MainChat = -1001000000001;

    [Fact]
    public async Task Telegram_Bot_round_trips_the_methods_the_bot_uses()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        fake.SetChatMember(MainChat, 5, ChatMemberStatus.Member);
        fake.SetChatMember(MainChat, 6, ChatMemberStatus.Restricted);
        fake.SetChatMember(MainChat, 8, ChatMemberStatus.Administrator);
        fake.AddJoinRequest(MainChat, 7);
        var update = fake.EnqueueUpdate("""{"message":{"message_id":3,"date":1700000000,"chat":{"id":42,"type":"private","first_name":"T"},"from":{"id":42,"is_bot":false,"first_name":"T"},"text":"/start"}}""");
        var bot = Client(fake);
        var cancel = TestContext.Current.CancellationToken;

        var me = await bot.GetMe(cancel);
        var updates = await bot.GetUpdates(offset: 0, timeout: 0, cancellationToken: cancel);
        var confirmed = await bot.GetUpdates(offset: (int)update + 1, timeout: 0, cancellationToken: cancel);
        var keyboard = new InlineKeyboardMarkup(InlineKeyboardButton.WithCallbackData("Yes", "y"));
        var sent = await bot.SendMessage(42, "Welcome", replyMarkup: keyboard, cancellationToken: cancel);
        time.Advance(TimeSpan.FromSeconds(1));
        var edited = await bot.EditMessageText(42, sent.MessageId, "Welcome!", cancellationToken: cancel);
        time.Advance(TimeSpan.FromSeconds(1));
        var copy = await bot.CopyMessage(43, 42, sent.MessageId, cancellationToken: cancel);
        await bot.DeleteMessage(42, sent.MessageId, cancel);
        await bot.SendChatAction(42, ChatAction.Typing, cancellationToken: cancel);
        await bot.AnswerCallbackQuery("query-1", cancellationToken: cancel);
        await bot.SetMyCommands([new BotCommand("start", "Subscribe"), new BotCommand("stop", "Unsubscribe")], cancellationToken: cancel);
        var member = await bot.GetChatMember(MainChat, 5, cancel);
        var restricted = await bot.GetChatMember(MainChat, 6, cancel);
        var admin = await bot.GetChatMember(MainChat, 8, cancel);
        var stranger = await bot.GetChatMember(MainChat, 9, cancel);
        await bot.ApproveChatJoinRequest(MainChat, 7, cancel);

        Assert.Equal(123456789, me.Id);
        Assert.Equal("fake_bot", me.Username);
        Assert.Equal("/start", Assert.Single(updates).Message!.Text);
        Assert.Empty(confirmed);
        Assert.Equal(4, sent.MessageId);
        Assert.Equal(ChatType.Private, sent.Chat.Type);
        Assert.Equal("Welcome", sent.Text);
        Assert.Equal("y", sent.ReplyMarkup!.InlineKeyboard.Single().Single().CallbackData);
        Assert.Equal("Welcome!", edited.Text);
        Assert.NotNull(edited.EditDate);
        Assert.Equal(1, copy.Id);
        Assert.Equal(ChatMemberStatus.Member, member.Status.ToString().ToLowerInvariant());
        Assert.IsType<ChatMemberMember>(member);
        Assert.IsType<ChatMemberRestricted>(restricted);
        Assert.IsType<ChatMemberAdministrator>(admin);
        Assert.IsType<ChatMemberLeft>(stranger);
        Assert.Equal("Welcome!", fake.Deliveries(43).Single().Text); // copied after the edit
    }

    [Fact]
    public async Task Errors_surface_as_ApiRequestException_with_code_description_and_retry_after()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        var bot = Client(fake);
        var cancel = TestContext.Current.CancellationToken;

        await bot.SendMessage(42, "first", cancellationToken: cancel);
        var tooMany = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(42, "second", cancellationToken: cancel));
        fake.BlockChat(44);
        var blocked = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(44, "x", cancellationToken: cancel));
        var notFound = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetChatMember(-5, 1, cancel));

        Assert.Equal(429, tooMany.ErrorCode);
        Assert.Equal(1, tooMany.Parameters?.RetryAfter);
        Assert.Equal(2, fake.Calls("sendMessage", 42).Count); // no retry inside the library
        Assert.Equal(403, blocked.ErrorCode);
        Assert.Equal("Forbidden: bot was blocked by the user", blocked.Message);
        Assert.Equal(400, notFound.ErrorCode);
        Assert.Equal("Bad Request: chat not found", notFound.Message);
    }

    [Fact]
    public async Task Webhook_registration_round_trips_and_blocks_polling()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        var bot = Client(fake);
        var cancel = TestContext.Current.CancellationToken;

        await bot.SetWebhook("https://bot.example.org/telegram/webhook", secretToken: "integration-test-webhook-secret",
            allowedUpdates: [UpdateType.Message, UpdateType.CallbackQuery, UpdateType.ChatJoinRequest], cancellationToken: cancel);
        var info = await bot.GetWebhookInfo(cancel);
        var secretRegistered = fake.IsWebhookSecretToken("integration-test-webhook-secret");
        var polling = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetUpdates(timeout: 0, cancellationToken: cancel));
        await bot.DeleteWebhook(cancellationToken: cancel);
        var after = await bot.GetWebhookInfo(cancel);

        Assert.Equal("https://bot.example.org/telegram/webhook", info.Url);
        Assert.Equal([UpdateType.Message, UpdateType.CallbackQuery, UpdateType.ChatJoinRequest], info.AllowedUpdates);
        Assert.Equal(40, info.MaxConnections);
        Assert.True(secretRegistered);
        Assert.Equal(409, polling.ErrorCode);
        Assert.Equal("", after.Url);
    }

    [Fact]
    public async Task Injected_server_errors_reach_the_library_as_request_failures()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        var bot = Client(fake);
        fake.InjectFault(Fault.InternalServerError());
        fake.InjectFault(Fault.BadGateway());

        var internalError = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetMe(TestContext.Current.CancellationToken));
        var badGateway = await Assert.ThrowsAnyAsync<RequestException>(() => bot.GetMe(TestContext.Current.CancellationToken));

        Assert.Equal(500, internalError.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, badGateway.HttpStatusCode);
    }

    /// <summary>As the bot builds it: the fake's base URL, and no retries inside the library.</summary>
    [Fact]
    public async Task Telegram_Bot_round_trips_restrictions_bans_and_the_administrator_list()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        fake.SetChatMember(MainChat, 1, ChatMemberStatus.Creator);
        fake.SetChatMember(MainChat, 5, ChatMemberStatus.Member);
        fake.SetChatMember(MainChat, 6, ChatMemberStatus.Member);
        var bot = Client(fake);
        var cancel = TestContext.Current.CancellationToken;
        var everything = new ChatPermissions
        {
            CanSendMessages = true,
            CanSendAudios = true,
            CanSendDocuments = true,
            CanSendPhotos = true,
            CanSendVideos = true,
            CanSendVideoNotes = true,
            CanSendVoiceNotes = true,
            CanSendPolls = true,
            CanSendOtherMessages = true,
            CanAddWebPagePreviews = true,
            CanChangeInfo = true,
            CanInviteUsers = true,
            CanPinMessages = true,
            CanManageTopics = true,
        };

        await bot.RestrictChatMember(MainChat, 5, new ChatPermissions { CanSendMessages = false }, cancellationToken: cancel);
        var restricted = await bot.GetChatMember(MainChat, 5, cancel);
        await bot.RestrictChatMember(MainChat, 5, everything, cancellationToken: cancel);
        var lifted = await bot.GetChatMember(MainChat, 5, cancel);
        await bot.BanChatMember(MainChat, 6, cancellationToken: cancel);
        var banned = await bot.GetChatMember(MainChat, 6, cancel);
        await bot.UnbanChatMember(MainChat, 6, onlyIfBanned: true, cancellationToken: cancel);
        var admins = await bot.GetChatAdministrators(MainChat, cancellationToken: cancel);
        var owner = await Assert.ThrowsAsync<ApiRequestException>(() => bot.BanChatMember(MainChat, 1, cancellationToken: cancel));

        var restriction = Assert.IsType<ChatMemberRestricted>(restricted);
        Assert.True(restriction.IsMember);
        Assert.False(restriction.CanSendMessages);
        Assert.IsType<ChatMemberMember>(lifted);
        Assert.IsType<ChatMemberBanned>(banned);
        Assert.Equal("left", fake.ChatMemberStatusOf(MainChat, 6).Status);
        Assert.IsType<ChatMemberOwner>(admins[0]);
        var self = Assert.IsType<ChatMemberAdministrator>(admins[^1]);
        Assert.True(self.User.IsBot);
        Assert.True(self.CanRestrictMembers);
        Assert.Equal((400, "Bad Request: can't remove chat owner"), (owner.ErrorCode, owner.Message));
    }

    [Fact]
    public async Task Telegram_Bot_round_trips_paid_sends_album_copies_batch_deletes_and_edits_of_copies()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        var bot = Client(fake);
        var cancel = TestContext.Current.CancellationToken;

        var first = await bot.SendMessage(42, "one", allowPaidBroadcast: true, cancellationToken: cancel);
        time.Advance(TimeSpan.FromSeconds(1));
        var second = await bot.SendMessage(42, "two", cancellationToken: cancel);
        var copies = await bot.CopyMessages(43, 42, [first.MessageId, second.MessageId], cancellationToken: cancel);
        time.Advance(TimeSpan.FromSeconds(1));
        var edited = await bot.EditMessageText(43, copies[0].Id, "one!", cancellationToken: cancel);
        var notModified = await Assert.ThrowsAsync<ApiRequestException>(() => bot.EditMessageText(43, copies[0].Id, "one!", cancellationToken: cancel));
        await bot.DeleteMessages(43, [copies[0].Id, copies[1].Id, 500], cancel);
        var gone = await Assert.ThrowsAsync<ApiRequestException>(() => bot.DeleteMessage(43, copies[1].Id, cancel));

        Assert.True(fake.Calls("sendMessage", 42)[0].Paid);
        Assert.False(fake.Calls("sendMessage", 42)[1].Paid);
        Assert.Equal([1, 2], copies.Select(c => c.Id));
        Assert.Equal([first.MessageId, second.MessageId], fake.Calls("copyMessages", 43)[0].SourceMessageIds);
        Assert.Equal("one!", edited.Text);
        Assert.Equal(400, notModified.ErrorCode);
        Assert.Equal([1, 2], fake.Calls("deleteMessages", 43)[0].MessageIds);
        Assert.Equal("Bad Request: message to delete not found", gone.Message);
        Assert.Equal(0, fake.Stats().RateLimitViolations);
    }

    [Fact]
    public async Task Calls_by_the_test_environment_path_are_answered_and_recorded_as_such()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        var cancel = TestContext.Current.CancellationToken;
        var test = new TelegramBotClient(new TelegramBotClientOptions(Token, fake.BaseUrl, useTestEnvironment: true) { RetryCount = 0 }, cancellationToken: cancel);
        var production = Client(fake);

        var me = await test.GetMe(cancel);
        var sent = await test.SendMessage(42, "from the test environment", cancellationToken: cancel);
        await production.SendMessage(43, "from production", cancellationToken: cancel);

        Assert.Equal(123456789, me.Id);
        Assert.Equal("from the test environment", sent.Text);
        var calls = fake.Calls();
        Assert.Equal([("getMe", true), ("sendMessage", true), ("sendMessage", false)], calls.Select(c => (c.Method, c.TestEnvironment)).ToArray());
        using var http = new HttpClient();
        var listed = await http.GetStringAsync(new Uri(fake.BaseUri, "/_fake/calls?method=getMe"), cancel);
        Assert.Contains("\"test_environment\":true", listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_web_app_menu_button_is_kept_per_chat_and_one_without_an_https_url_is_refused()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        var bot = Client(fake);
        var cancel = TestContext.Current.CancellationToken;

        await bot.SetChatMenuButton(42, new MenuButtonWebApp { Text = "Panel", WebApp = new WebAppInfo("https://bot.example/app/") }, cancel);
        var mine = await bot.GetChatMenuButton(42, cancel);
        var other = await bot.GetChatMenuButton(43, cancel);
        var refused = await Assert.ThrowsAsync<ApiRequestException>(() =>
            bot.SetChatMenuButton(42, new MenuButtonWebApp { Text = "Panel", WebApp = new WebAppInfo("http://bot.example/app/") }, cancel));

        var web = Assert.IsType<MenuButtonWebApp>(mine);
        Assert.Equal("Panel", web.Text);
        Assert.Equal("https://bot.example/app/", web.WebApp.Url);
        Assert.IsType<MenuButtonCommands>(other);
        Assert.Equal(400, refused.ErrorCode);
        Assert.Equal(2, fake.Calls("setChatMenuButton").Count);
    }

    private static TelegramBotClient Client(FakeTelegramServer fake) =>
        new(new TelegramBotClientOptions(Token, fake.BaseUrl) { RetryCount = 0 }, cancellationToken: TestContext.Current.CancellationToken);
}
