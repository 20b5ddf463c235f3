namespace Bot.Telegram;

/// <summary>
/// The last check before a Bot API call's bytes leave the process: the sender client's connections are wrapped in
/// a stream that asks the calling flow's fence, if it set one, before every write, and refuses the write when the
/// fence says no.
/// <para>
/// The outbox sender checks its leadership before each call, but a call goes through deserializing its row,
/// Telegram.Bot's serializer and the HTTP pipeline before it is written; a leader frozen in between (SIGSTOP, a
/// paused VM) and thawed after its successor took over would send it then, on top of the successor's full rate,
/// past Telegram's overall limit (the chaos drill's stall phase, tests/Load/chaos). Asked at the write, the fence
/// leaves only the instant between the check and the write system call. A refused write sends nothing: not even
/// the request's headers are written, so Telegram never sees the call.
/// </para>
/// The fence is an <see cref="AsyncLocal{T}"/>: HTTP/1.1 writes a request on the flow that sends it, so a fence set in
/// an async method holds for the calls made under it and for nothing else (other users of the same client set none).
/// </summary>
public static class SendFence
{
    private static readonly AsyncLocal<Func<bool>?> Current = new();

    /// <summary>Sets the fence for the calls made from here on in the calling async method (and what it awaits).</summary>
    public static void Set(Func<bool> mayWrite) => Current.Value = mayWrite;

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is a write the fence refused.</summary>
    public static bool Refused(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is SendFencedException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Wraps a connection's stream (for <see cref="SocketsHttpHandler.PlaintextStreamFilter"/>).</summary>
    public static ValueTask<Stream> Wrap(SocketsHttpPlaintextStreamFilterContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Stream>(new FencedStream(context.PlaintextStream));

    internal static void Check()
    {
        if (Current.Value is { } mayWrite && !mayWrite())
        {
            throw new SendFencedException();
        }
    }

    /// <summary>A delegating stream that asks the fence before each write.</summary>
    private sealed class FencedStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            Check();
            inner.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Check();
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Check();
            return inner.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Check();
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A write refused by <see cref="SendFence"/>: nothing of the call was sent.</summary>
public sealed class SendFencedException() : IOException("The call was not sent: the sender's fence refused it (leadership is no longer confirmed)");
