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

    public PipeTransport(PipeOptions? toServer = null, PipeOptions? toClient = null)
    {
        _toServer = new Pipe(toServer ?? PipeOptions.Default);
        _toClient = new Pipe(toClient ?? PipeOptions.Default);
        Pipe = new DuplexPipe(_toServer.Reader, _toClient.Writer);
    }

    public override IDuplexPipe Pipe { get; }

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

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
