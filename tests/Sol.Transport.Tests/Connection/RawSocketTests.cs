using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Sol.Transport.Sockets;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// The raw socket kind below the WebSocket layer: <see cref="SocketSender"/> sending on the flushing thread and going
/// asynchronous only while the kernel's buffer is full, and the receive loop's input pipe. (Every WebSocket-level
/// socket test also runs on this kind.)
/// </summary>
public sealed class RawSocketTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AFlushThatFindsTheKernelBufferFullCompletesOnceTheClientReadsAndEveryByteArrivesInOrder()
    {
        await using var pair = await Pair.ConnectAsync();
        var output = (SocketSender)pair.Server.Pipe.Output;
        const int Chunk = 64 * 1024;
        const int Total = 48 * 1024 * 1024; // more than loopback's send and receive buffers hold together
        Task<long>? reading = null;
        var pendingFlushes = 0;
        for (var offset = 0; offset < Total; offset += Chunk)
        {
            var span = output.GetSpan(); // block by block, as the frame writer does
            var written = 0;
            while (written < Chunk)
            {
                span = output.GetSpan();
                var n = Math.Min(span.Length, Chunk - written);
                Fill(span[..n], offset + written);
                output.Advance(n);
                written += n;
            }
            var flush = output.FlushAsync();
            if (!flush.IsCompleted)
            {
                pendingFlushes++;
                reading ??= Task.Run(() => ReadAndCheckAsync(pair.Client, Total));
            }
            var result = await flush.AsTask().WaitAsync(s_deadline);
            Assert.False(result.IsCompleted);
            Assert.False(result.IsCanceled);
        }
        Assert.True(pendingFlushes > 0, "the kernel never pushed back; the asynchronous path was not exercised");
        Assert.NotNull(reading);
        Assert.Equal(0, output.HeldSegments);
        Assert.Equal(Total, output.BytesSent);
        await output.CompleteAsync(); // FIN after the data
        Assert.Equal(Total, await reading.WaitAsync(s_deadline));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APendingFlushEndsAsCompletedWhenThePeerResetsOrTheConnectionIsAborted(bool abort)
    {
        await using var pair = await Pair.ConnectAsync();
        var output = (SocketSender)pair.Server.Pipe.Output;
        ValueTask<FlushResult> flush;
        var guard = 0;
        do
        {
            output.GetSpan(4096)[..4096].Fill(7);
            output.Advance(4096);
            flush = output.FlushAsync();
            Assert.True(++guard < 100_000, "the kernel never pushed back");
        }
        while (flush.IsCompleted);
        Assert.True(output.HeldSegments > 0);
        if (abort)
        {
            pair.Server.Abort();
        }
        else
        {
            pair.Client.LingerState = new LingerOption(true, 0); // close with RST
            pair.Client.Close();
        }
        var result = await flush.AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCompleted);
        await output.CompleteAsync();
        Assert.Equal(0, output.HeldSegments); // the blocks went back once the send ended
        Assert.True((await output.FlushAsync()).IsCompleted);
    }

    [Fact]
    public async Task CompletingWithUnflushedBytesDropsThemAndSendsFin()
    {
        await using var pair = await Pair.ConnectAsync();
        var output = pair.Server.Pipe.Output;
        output.Write("sent"u8);
        await output.FlushAsync();
        output.Write("never flushed"u8);
        await output.CompleteAsync();
        Assert.Equal(0, ((SocketSender)output).HeldSegments);
        var received = new byte[64];
        var total = 0;
        while (true)
        {
            var n = await pair.Client.ReceiveAsync(received.AsMemory(total)).AsTask().WaitAsync(s_deadline);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        Assert.Equal("sent"u8.ToArray(), received[..total]);
    }

    [Fact]
    public async Task AWriteBiggerThanABlockGoesOutInOnePiece()
    {
        await using var pair = await Pair.ConnectAsync();
        var output = (SocketSender)pair.Server.Pipe.Output;
        var memory = output.GetMemory(3 * BlockMemoryPool.BlockSize);
        Assert.True(memory.Length >= 3 * BlockMemoryPool.BlockSize);
        Fill(memory.Span[..(3 * BlockMemoryPool.BlockSize)], 0);
        output.Advance(3 * BlockMemoryPool.BlockSize);
        Assert.False((await output.FlushAsync()).IsCompleted);
        Assert.Equal(0, output.HeldSegments);
        await output.CompleteAsync();
        Assert.Equal(3 * BlockMemoryPool.BlockSize, await ReadAndCheckAsync(pair.Client, 3 * BlockMemoryPool.BlockSize));
    }

    [Fact]
    public async Task TheInputCarriesWhatArrivedAndEndsAtThePeersFin()
    {
        await using var pair = await Pair.ConnectAsync();
        var payload = new byte[100_000];
        Fill(payload, 0);
        await pair.Client.SendAsync(payload);
        pair.Client.Shutdown(SocketShutdown.Send);
        var input = pair.Server.Pipe.Input;
        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(s_deadline);
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }
        Assert.Equal(payload, received.WrittenSpan.ToArray());
        await input.CompleteAsync();
    }

    [Fact]
    public async Task AbortEndsAWaitingReadWithoutAnError()
    {
        await using var pair = await Pair.ConnectAsync();
        var input = pair.Server.Pipe.Input;
        var read = input.ReadAsync();
        Assert.False(read.IsCompleted);
        pair.Server.Abort();
        var result = await read.AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCompleted);
        Assert.True((await pair.Server.Pipe.Output.FlushAsync()).IsCompleted);
    }

    private static void Fill(Span<byte> span, long position)
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (byte)((position + i) * 31 % 251);
        }
    }

    /// <summary>Reads until FIN, checking every byte against <see cref="Fill"/>'s pattern; returns the count.</summary>
    private static async Task<long> ReadAndCheckAsync(Socket client, long expected)
    {
        var buffer = new byte[256 * 1024];
        long position = 0;
        while (true)
        {
            var n = await client.ReceiveAsync(buffer);
            if (n == 0)
            {
                return position;
            }
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] != (byte)((position + i) * 31 % 251))
                {
                    throw new InvalidDataException($"byte {position + i} of {expected} is wrong");
                }
            }
            position += n;
        }
    }

    /// <summary>A raw listener on 127.0.0.1:0, one client socket, and the accepted connection.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly RawSocketListener _listener;

        private Pair(RawSocketListener listener, Socket client, TransportConnection server)
        {
            _listener = listener;
            Client = client;
            Server = server;
        }

        public Socket Client { get; }

        public TransportConnection Server { get; }

        public static async Task<Pair> ConnectAsync()
        {
            var listener = RawSocketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
            await client.ConnectAsync(listener.Endpoint);
            var server = await listener.AcceptAsync(CancellationToken.None).AsTask().WaitAsync(s_deadline);
            return new Pair(listener, client, server!);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Server.Pipe.Output.CompleteAsync();
            await Server.Pipe.Input.CompleteAsync();
            await Server.DisposeAsync();
            await _listener.DisposeAsync();
        }
    }
}
