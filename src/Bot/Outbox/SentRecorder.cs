using System.Threading.Channels;

namespace Bot.Outbox;

/// <summary>
/// Records successful calls in groups, one statement and one commit per group: calls that finish while a group
/// is being written form the next one, so under load a commit records many sends, and alone a send is recorded
/// at once. Each caller waits until its own record is durable. A database blip is retried as long as this
/// replica leads; the next leader resends whatever was not recorded (at least once, as for a call in flight).
/// </summary>
internal sealed class SentRecorder(OutboxQueue queue)
{
    private const int MaxGroup = 512;

    private readonly Channel<(long Id, string? Result, TaskCompletionSource Done)> pending =
        Channel.CreateUnbounded<(long, string?, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    public Task RecordAsync(long id, string? result)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!pending.Writer.TryWrite((id, result, done)))
        {
            done.SetException(new InvalidOperationException("the sender has stopped"));
        }

        return done.Task;
    }

    /// <summary>No more records come (every call has finished); <see cref="RunAsync"/> ends once they are written.</summary>
    public void Complete() => pending.Writer.TryComplete();

    public async Task RunAsync(CancellationToken leadership)
    {
        var group = new List<(long Id, string? Result, TaskCompletionSource Done)>(MaxGroup);
        while (await pending.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (group.Count < MaxGroup && pending.Reader.TryRead(out var item))
            {
                group.Add(item);
            }

            try
            {
                await queue.SettleSentAsync(group.ConvertAll(g => (g.Id, g.Result)), leadership);
                group.ForEach(g => g.Done.TrySetResult());
            }
            catch (Exception exception)
            {
                group.ForEach(g => g.Done.TrySetException(exception));
            }

            group.Clear();
        }
    }
}
