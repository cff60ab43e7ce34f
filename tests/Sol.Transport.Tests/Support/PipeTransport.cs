using System.IO.Pipelines;
using System.Net;
using Sol.Transport.Sockets;

namespace Sol.Transport.Tests.Support;

/// <summary>
/// An in-memory "socket": the test plays the client on <see cref="ClientOutput"/> (what the server reads) and
/// <see cref="ClientInput"/> (what the server wrote).
/// </summary>
internal sealed class PipeTransport : TransportConnection
{
    private readonly Pipe _toServer;
    private readonly Pipe _toClient;

    private readonly Connections.SendScheduler? _scheduler;
    private readonly CountingWriter _output;

    /// <param name="scheduler">Where the connection's writer runs (tests that run drainers by hand); the shared one by default.</param>
    public PipeTransport(PipeOptions? toServer = null, PipeOptions? toClient = null, Connections.SendScheduler? scheduler = null)
    {
        _toServer = new Pipe(toServer ?? PipeOptions.Default);
        _toClient = new Pipe(toClient ?? PipeOptions.Default);
        _scheduler = scheduler;
        _output = new CountingWriter(_toClient.Writer);
        Pipe = new DuplexPipe(_toServer.Reader, _output);
    }

    public override IDuplexPipe Pipe { get; }

    internal override Connections.SendScheduler Scheduler => _scheduler ?? base.Scheduler;

    /// <summary>Flushes of the server's output so far.</summary>
    public int Flushes => Volatile.Read(ref _output.Flushes);

    public override EndPoint? RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 1);

    public PipeWriter ClientOutput => _toServer.Writer;

    public PipeReader ClientInput => _toClient.Reader;

    public bool Aborted { get; private set; }

    public override void Abort()
    {
        Aborted = true;
        _toServer.Writer.Complete();
        _toClient.Reader.Complete();
    }

    /// <summary>How often the connection released this transport.</summary>
    public int Disposals => Volatile.Read(ref _disposals);

    private int _disposals;

    public override ValueTask DisposeAsync()
    {
        Interlocked.Increment(ref _disposals);
        return ValueTask.CompletedTask;
    }

    /// <summary>The server's output as it is, counting flushes.</summary>
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        public int Flushes;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Flushes);
            return inner.FlushAsync(cancellationToken);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
