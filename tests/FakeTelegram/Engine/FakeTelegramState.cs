using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>
/// The fake's state behind one lock. Every decision about a call (token, method, fault, rate limit, effect,
/// record) is made inside it, so concurrent calls see a consistent world; parsing and writing stay outside.
/// </summary>
internal sealed class FakeTelegramState
{
    private const string OtherGetUpdates =
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

    private readonly Lock gate = new();
    private readonly long started;
    private readonly TokenPolicy tokens;
    private readonly BotWorld world;
    private readonly BotMethods methods;
    private readonly CallLog log;
    private long sequence;

    public FakeTelegramState(FakeTelegramOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRecordedCalls, 1);
        Time = options.TimeProvider;
        started = Time.GetTimestamp();
        tokens = new TokenPolicy(options.Tokens);
        world = new BotWorld(options);
        methods = new BotMethods(world, options);
        log = new CallLog(options.MaxRecordedCalls);
    }

    public TimeProvider Time { get; }

    public CallDecision Decide(BotCall call)
    {
        lock (gate)
        {
            var context = new CallContext(call, ++sequence, Time.GetElapsedTime(started), Time.GetUtcNow());
            if (!tokens.Accepts(call.Token))
            {
                return Answer(context, ApiResult.Unauthorized);
            }

            if (!methods.TryGet(call.MethodName, out var method))
            {
                return Answer(context, ApiResult.MethodNotFound);
            }

            context.Method = method.Name;
            context.Paid = method.PaidBroadcast && call.Parameters.Bool("allow_paid_broadcast");
            if (method.RateLimited)
            {
                log.ObserveAttempt(context.Now, context.Paid);
            }

            if (call.ParseError is { } parseError)
            {
                return Answer(context, ApiResult.Error(400, parseError));
            }

            var fault = world.Faults.Take(method.Name, context.Chat);
            context.Injected = fault is not null;
            switch (fault?.Kind)
            {
                case FaultKind.Status:
                    return Answer(context, ApiResult.From(fault));
                case FaultKind.Timeout:
                    // The outcome of a call whose answer is lost is unknown to the client; the fault says which it was.
                    if (fault.Delivered)
                    {
                        method.Handle?.Invoke(context);
                    }

                    return new CallDecision { Record = log.Append(context, null) };
            }

            var delay = fault?.Delay ?? TimeSpan.Zero;
            return method.Handle is { } handle ? Answer(context, handle(context), delay) : StartGetUpdates(context, delay);
        }
    }

    /// <summary>Answers a long poll once it was woken, timed out, terminated or abandoned.</summary>
    public CallDecision CompletePoll(PollTicket ticket, PollOutcome outcome)
    {
        lock (gate)
        {
            world.Updates.EndPoll(ticket);
            var context = ticket.Context;
            if (ticket.TerminatedBecause is { } reason)
            {
                return Answer(context, ApiResult.Error(409, reason), ticket.Delay);
            }

            if (outcome == PollOutcome.Abandoned)
            {
                return new CallDecision { Record = log.Append(context, null) };
            }

            return Answer(context, ApiResult.Ok(world.Updates.Take(ticket.Limit)), ticket.Delay);
        }
    }

    public IReadOnlyList<CallRecord> Calls(string? method, ChatRef? chat)
    {
        lock (gate)
        {
            return log.Calls(method, chat);
        }
    }

    public IReadOnlyList<DeliveredMessage> Deliveries(ChatRef? chat)
    {
        lock (gate)
        {
            return log.Deliveries(chat);
        }
    }

    public FakeStats Stats()
    {
        lock (gate)
        {
            return log.Stats();
        }
    }

    public void ClearCalls()
    {
        lock (gate)
        {
            log.Clear();
        }
    }

    public async Task WaitAsync(Func<CallLog, CallLog.Waiter> register, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CallLog.Waiter waiter;
        lock (gate)
        {
            waiter = register(log);
        }

        try
        {
            // Real time on purpose: this guards a test against hanging, whatever clock drives the fake.
            await waiter.Completed.WaitAsync(timeout, TimeProvider.System, cancellationToken);
        }
        catch (TimeoutException)
        {
            lock (gate)
            {
                log.Forget(waiter);
            }

            throw;
        }
    }

    public int Seen(CallLog.Waiter waiter)
    {
        lock (gate)
        {
            return waiter.Seen;
        }
    }

    public long EnqueueUpdate(JsonObject update)
    {
        lock (gate)
        {
            world.ObserveMessages(update);
            return world.Updates.Enqueue(update);
        }
    }

    public int PendingUpdateCount
    {
        get
        {
            lock (gate)
            {
                return world.Updates.Count;
            }
        }
    }

    /// <summary>A getUpdates is waiting for updates (lets tests act only once it is).</summary>
    public bool HasWaitingPoll
    {
        get
        {
            lock (gate)
            {
                return world.Updates.HasWaitingPoll;
            }
        }
    }

    public void InjectFault(Fault fault)
    {
        lock (gate)
        {
            world.Faults.Add(fault);
        }
    }

    public IReadOnlyList<Fault> PendingFaults()
    {
        lock (gate)
        {
            return world.Faults.Pending();
        }
    }

    public void ClearFaults()
    {
        lock (gate)
        {
            world.Faults.Clear();
        }
    }

    public void AddChat(ChatRef chat, string? type)
    {
        if (type is not (null or "private" or "group" or "supergroup" or "channel"))
        {
            throw new ArgumentException($"Unknown chat type {type} (private, group, supergroup, channel)", nameof(type));
        }

        lock (gate)
        {
            var state = world.Chats.GetOrAdd(chat);
            state.Known = true;
            state.Type = type ?? state.Type;
        }
    }

    public void SetChatMember(ChatRef chat, long userId, string status)
    {
        lock (gate)
        {
            var state = world.Chats.GetOrAdd(chat);
            state.Known = true;
            state.SetMember(userId, status);
        }
    }

    public void SetBotRights(ChatRef chat, bool canRestrictMembers, bool canDeleteMessages)
    {
        lock (gate)
        {
            var state = world.Chats.GetOrAdd(chat);
            state.Known = true;
            state.BotCanRestrictMembers = canRestrictMembers;
            state.BotCanDeleteMessages = canDeleteMessages;
        }
    }

    /// <summary>The bot left or was kicked: a group refuses every call (a private chat: the user blocked the bot).</summary>
    public void RemoveBot(ChatRef chat)
    {
        lock (gate)
        {
            var state = world.Chats.GetOrAdd(chat);
            state.Known = true;
            state.Block = state.EffectiveType == "private" ? ChatBlock.BlockedByUser : ChatBlock.Kicked;
        }
    }

    public ChatMemberState ChatMemberStatusOf(ChatRef chat, long userId)
    {
        lock (gate)
        {
            var entry = world.Chats.Find(chat)?.Member(userId) ?? ChatMemberEntry.Left;
            var permissions = entry.Permissions ?? new Dictionary<string, bool>();
            return new ChatMemberState(
                entry.Status, entry.IsMember, entry.Allows("can_send_messages"), entry.UntilDate, permissions.ToDictionary());
        }
    }

    public MessageState? Message(ChatRef chat, int messageId)
    {
        lock (gate)
        {
            return world.Chats.Find(chat)?.Message(messageId) is { } stored
                ? new MessageState(messageId, stored.Text, stored.FromBot, stored.Edited, stored.Deleted)
                : null;
        }
    }

    public void AddJoinRequest(ChatRef chat, long userId)
    {
        lock (gate)
        {
            var state = world.Chats.GetOrAdd(chat);
            state.Known = true;
            state.TracksJoinRequests = true;
            state.PendingJoinRequests.Add(userId);
        }
    }

    public void SetBlock(ChatRef chat, ChatBlock? block)
    {
        lock (gate)
        {
            world.Chats.GetOrAdd(chat).Block = block;
        }
    }

    public RateLimits RateLimits
    {
        get
        {
            lock (gate)
            {
                return world.Limiter.Limits;
            }
        }

        set
        {
            lock (gate)
            {
                world.Limiter.Limits = value;
            }
        }
    }

    public WebhookState Webhook()
    {
        lock (gate)
        {
            var webhook = world.Webhook;
            return new WebhookState(
                webhook.Url, webhook.SecretToken is not null, webhook.AllowedUpdates, webhook.MaxConnections, world.Updates.Count);
        }
    }

    public bool IsWebhookSecretToken(string candidate)
    {
        lock (gate)
        {
            return world.Webhook.SecretToken is { } secret && string.Equals(secret, candidate, StringComparison.Ordinal);
        }
    }

    /// <summary>Back to the options' state. Sequence numbers restart; update ids do not (see <see cref="UpdateQueue"/>).</summary>
    public void Reset()
    {
        lock (gate)
        {
            world.Reset();
            log.Clear();
            sequence = 0;
        }
    }

    private CallDecision StartGetUpdates(CallContext context, TimeSpan delay)
    {
        if (world.Webhook.IsSet)
        {
            return Answer(context, ApiResult.Error(409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"), delay);
        }

        var parameters = context.Parameters;
        var limit = Math.Clamp(parameters.Int("limit") ?? 100, 1, 100);
        var timeout = Math.Max(0, parameters.Int("timeout") ?? 0);
        var updates = world.Updates;
        updates.Confirm(parameters.Long("offset") ?? 0);

        // Any getUpdates ends one that is still waiting: two pollers keep knocking each other out, as on Telegram.
        updates.Terminate(OtherGetUpdates);
        if (updates.Count > 0 || timeout == 0)
        {
            return Answer(context, ApiResult.Ok(updates.Take(limit)), delay);
        }

        return new CallDecision { Poll = updates.StartPoll(context, limit, TimeSpan.FromSeconds(timeout), delay) };
    }

    private CallDecision Answer(CallContext context, ApiResult answer, TimeSpan delay = default) =>
        new() { Answer = answer, Delay = delay, Record = log.Append(context, answer) };
}
