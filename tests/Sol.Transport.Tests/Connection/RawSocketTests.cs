using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Sol.Testing;
using Sol.Transport.Frames;
using Sol.Transport.Sockets;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// The raw socket kind below the WebSocket layer: <see cref="SocketSender"/> sending on the flushing thread and going
/// asynchronous only while the kernel's buffer is full, and the receive loop's input pipe. (Every WebSocket-level
/// socket test also runs on this kind.)
/// </summary>
public sealed class RawSocketTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Each connection test runs both ways: on an I/O loop (Linux: input read on the loop, room to send reported by
    /// <c>EPOLLOUT</c>) and through the runtime's engine (a receive loop, a waiting flush sent with <c>SendAsync</c>;
    /// elsewhere, or with <c>SOL_IO_THREADS=0</c>).
    /// </summary>
    public static TheoryData<bool> BothPaths => new() { true, false };

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task AFlushThatFindsTheKernelBufferFullCompletesOnceTheClientReadsAndEveryByteArrivesInOrder(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        const int Chunk = 64 * 1024;
        const int Total = 48 * 1024 * 1024; // more than loopback's send and receive buffers hold together
        Task<long>? reading = null;
        var pendingFlushes = 0;
        for (var offset = 0; offset < Total; offset += Chunk)
        {
            WritePattern(output, offset, Chunk);
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
        Assert.Equal(0, pair.Blocks.Outstanding);
        Assert.Equal(Total, output.BytesSent);
        await output.CompleteAsync(); // FIN after the data
        Assert.Equal(Total, await reading.WaitAsync(s_deadline));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task APendingFlushEndsAsCompletedWhenThePeerResetsOrTheConnectionIsAborted(bool abort, bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var (flush, _) = WriteUntilTheKernelPushesBack(output);
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
        Assert.Equal(0, output.HeldSegments);
        Assert.Equal(0, pair.Blocks.Outstanding); // the blocks went back once the send ended
        Assert.True((await output.FlushAsync()).IsCompleted);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task CompletingWithUnflushedBytesDropsThemAndSendsFin(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = pair.Server.Pipe.Output;
        output.Write("sent"u8);
        await output.FlushAsync();
        output.Write("never flushed"u8);
        await output.CompleteAsync();
        Assert.Equal(0, ((SocketSender)output).HeldSegments);
        Assert.Equal(0, pair.Blocks.Outstanding);
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

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task AWriteBiggerThanABlockIsTakenWholeAndSent(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var memory = output.GetMemory(3 * BlockMemoryPool.BlockSize);
        Assert.True(memory.Length >= 3 * BlockMemoryPool.BlockSize);
        Fill(memory.Span[..(3 * BlockMemoryPool.BlockSize)], 0);
        output.Advance(3 * BlockMemoryPool.BlockSize);
        Assert.False((await output.FlushAsync()).IsCompleted);
        Assert.Equal(0, output.HeldSegments);
        Assert.Equal(0, pair.Blocks.Outstanding);
        await output.CompleteAsync();
        Assert.Equal(3 * BlockMemoryPool.BlockSize, await ReadAndCheckAsync(pair.Client, 3 * BlockMemoryPool.BlockSize));
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task OneFlushOfMoreBlocksThanOneSendmsgTakesGoesOutWhole(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        const int Total = 2 * 1024 * 1024; // 512 blocks: several sendmsg calls of at most 32, and kernel push-back
        WritePattern(output, 0, Total);
        var reading = Task.Run(() => ReadAndCheckAsync(pair.Client, Total));
        var result = await output.FlushAsync().AsTask().WaitAsync(s_deadline);
        Assert.False(result.IsCompleted);
        Assert.Equal(Total, output.BytesSent);
        Assert.Equal(0, pair.Blocks.Outstanding);
        await output.CompleteAsync();
        Assert.Equal(Total, await reading.WaitAsync(s_deadline));
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task SharedFramesAmongOtherWritesGoOutInOrderWhetherCopiedOrSentFromTheirOwnBytes(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var small = Frame(200, 1);  // behind other bytes and short: copied into the block
        var large = Frame(5000, 2); // longer than the block has room for: sent from its own bytes
        var expected = new List<byte>();
        WritePattern(output, 0, 100);
        expected.AddRange(Pattern(0, 100));
        foreach (var frame in new[] { small, large })
        {
            frame.AddReference();
            output.WriteShared(frame);
            expected.AddRange(frame.Frame.ToArray());
        }
        WritePattern(output, 100, 50);
        expected.AddRange(Pattern(100, 50));

        Assert.False(small.Pinned);
        Assert.Equal(1, small.References); // copied: given back at once
        Assert.True(large.Pinned);
        Assert.Equal(2, large.References); // held until it went out
        Assert.Equal(3, output.HeldSegments); // block, frame, block

        Assert.False((await output.FlushAsync()).IsCompleted);
        Assert.Equal(1, large.References);
        Assert.Equal(0, output.HeldSegments);
        Assert.Equal(0, pair.Blocks.Outstanding);
        await output.CompleteAsync();
        Assert.Equal(expected.ToArray(), await ReadAllAsync(pair.Client));
        small.Release();
        large.Release();
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task ASharedFrameLargerThanTheKernelTakesIsHeldWhileTheFlushWaitsAndReleasedOnceItIsSent(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var frame = Frame(48 * 1024 * 1024, 3); // more than loopback's send and receive buffers hold together
        var expected = frame.Frame.ToArray();
        frame.AddReference();
        output.WriteShared(frame);

        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted);
        Assert.Equal(2, frame.References);
        var reading = ReadAllAsync(pair.Client);
        Assert.False((await flush.AsTask().WaitAsync(s_deadline)).IsCompleted);
        Assert.Equal(1, frame.References);
        await output.CompleteAsync();
        Assert.Equal(expected, await reading.WaitAsync(s_deadline));
        frame.Release();
    }

    [Theory]
    [InlineData(200, 22, false)]  // a snapshot with its acknowledgement: both in one block, one piece
    [InlineData(3000, 22, false)] // the same, a larger snapshot
    [InlineData(200, 0, true)]    // alone: sent from its own bytes
    [InlineData(4080, 22, true)]  // the two do not fit one block: the frame is a piece of its own
    public async Task ASharedFrameThatStartsAFlushIsCopiedOnlyWhenWhatFollowsFitsTheSameBlock(int payloadLength, int followedBy, bool ownSegment)
    {
        await using var pair = await Pair.ConnectAsync();
        var output = (SocketSender)pair.Server.Pipe.Output;
        var frame = Frame(payloadLength, 5);
        var expected = new List<byte>(frame.Frame.ToArray());
        frame.AddReference();
        output.WriteShared(frame, followedBy);
        WritePattern(output, 0, followedBy > 0 ? followedBy : 20);
        expected.AddRange(Pattern(0, followedBy > 0 ? followedBy : 20));

        Assert.Equal(ownSegment, frame.Pinned);
        Assert.Equal(ownSegment ? 2 : 1, frame.References);
        Assert.Equal(ownSegment ? 2 : 1, output.HeldSegments);
        Assert.False((await output.FlushAsync()).IsCompleted);
        Assert.Equal(1, frame.References);
        await output.CompleteAsync();
        Assert.Equal(expected.ToArray(), await ReadAllAsync(pair.Client));
        frame.Release();
    }

    [Fact]
    public async Task ASharedFrameCopiedForTheTrailerAfterItLeavesRoomForThatTrailerInTheSameBlock()
    {
        // The writer's rule and the frame writer's request must agree up to the last byte of the block: a frame copied
        // because "frame + trailer fit one block" must not leave the trailer a second block.
        await using var pair = await Pair.ConnectAsync();
        var output = (SocketSender)pair.Server.Pipe.Output;
        var trailer = Pattern(9, 20);
        var trailerFrame = ClientFrames.Frame(0x2, trailer, masked: false); // as the server writes it
        var expected = new List<byte>();
        var reading = ReadAllAsync(pair.Client);
        var copied = 0;
        for (var payloadLength = BlockMemoryPool.BlockSize - 60; payloadLength <= BlockMemoryPool.BlockSize - 4; payloadLength++)
        {
            var frame = Frame(payloadLength, 6);
            expected.AddRange(frame.Frame.ToArray());
            expected.AddRange(trailerFrame);
            frame.AddReference();
            output.WriteShared(frame, FrameWriter.FrameLength(trailer.Length));
            FrameWriter.Write(output, Opcode.Binary, trailer);
            if (!frame.Pinned)
            {
                copied++;
                Assert.Equal(1, output.HeldSegments);
            }
            else
            {
                Assert.Equal(2, output.HeldSegments); // the frame, and the trailer's block
            }
            Assert.False((await output.FlushAsync()).IsCompleted);
            Assert.Equal(1, frame.References);
            frame.Release();
        }
        Assert.InRange(copied, 1, 56); // both sides of the boundary were tried
        await output.CompleteAsync();
        Assert.Equal(expected.ToArray(), await reading.WaitAsync(s_deadline));
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task CompletingWithAnUnflushedSharedFrameReleasesItsReference(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var frame = Frame(3000, 4);
        frame.AddReference();
        output.WriteShared(frame);
        Assert.Equal(2, frame.References);
        await output.CompleteAsync();
        Assert.Equal(1, frame.References);
        Assert.Empty(await ReadAllAsync(pair.Client)); // only FIN
        frame.Release();
        Assert.Throws<InvalidOperationException>(() => output.WriteShared(SharedFrame.Create([1])));
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task CompletingDuringAPendingFlushLetsItFinishThenSendsFinAndGivesTheBlocksBack(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var (flush, written) = WriteUntilTheKernelPushesBack(output);
        output.Complete(); // from this thread while the flush waits for the kernel
        Assert.True(pair.Blocks.Outstanding > 0);
        var reading = Task.Run(() => ReadAndCheckAsync(pair.Client, written));
        var result = await flush.AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCompleted); // the writer is done
        Assert.Equal(written, await reading.WaitAsync(s_deadline)); // everything flushed, then FIN
        Assert.Equal(0, pair.Blocks.Outstanding);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task CancelPendingFlushEndsTheWaitAfterTheSendUnderWayAndTheRestGoesWithTheNextFlush(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        var (flush, written) = WriteUntilTheKernelPushesBack(output);
        output.CancelPendingFlush();
        var reading = Task.Run(() => ReadAndCheckAsync(pair.Client, written));
        var result = await flush.AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCanceled); // even when the send under way took the rest: the request came while it waited
        Assert.False(result.IsCompleted);
        var next = await output.FlushAsync().AsTask().WaitAsync(s_deadline);
        Assert.False(next.IsCanceled); // the request was used up
        Assert.Equal(written, output.BytesSent);
        await output.CompleteAsync();
        Assert.Equal(written, await reading.WaitAsync(s_deadline)); // in order, nothing lost or sent twice
        Assert.Equal(0, pair.Blocks.Outstanding);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task ALargeBacklogsSegmentArrayIsGivenUpOnceItWentOut(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        const int Written = 2 * 1024 * 1024; // 512 blocks: more than the kernel takes at once
        WritePattern(output, 0, Written);
        Assert.True(output.SegmentCapacity > 64);
        var flush = output.FlushAsync();
        var reading = Task.Run(() => ReadAndCheckAsync(pair.Client, Written));

        await flush.AsTask().WaitAsync(s_deadline);

        Assert.Equal(0, output.HeldSegments);
        Assert.Equal(4, output.SegmentCapacity); // not ~20 KiB of segment slots kept for the connection's life
        await output.CompleteAsync();
        Assert.Equal(Written, await reading.WaitAsync(s_deadline));
        Assert.Equal(0, pair.Blocks.Outstanding);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task DisposingEndsAReceiveLoopThatWaitsForTheReaderToMakeRoom(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var input = pair.Server.Pipe.Input;
        var payload = new byte[1024 * 1024]; // more than the input pipe takes before it pushes back (64 KiB)
        var sending = pair.Client.SendAsync(payload);
        var first = await input.ReadAsync().AsTask().WaitAsync(s_deadline);
        input.AdvanceTo(first.Buffer.Start, first.Buffer.End); // nothing consumed: the pipe fills and the loop waits
        await Eventually.TrueAsync(() => TryReadMore(input) >= 64 * 1024, s_deadline, "the input pipe filled");
        await pair.Server.DisposeAsync().AsTask().WaitAsync(s_deadline); // the input reader was never completed
        _ = sending;
    }

    [Theory]
    [InlineData(100)]   // a pool block: one sendmsg
    [InlineData(5_000)] // bigger than a block: a pooled array, sent through Socket.Send
    public async Task AFlushOnASocketDisposedUnderItEndsAsCompletedWithoutThrowing(int size)
    {
        await using var pair = await Pair.ConnectAsync();
        var blocks = new BlockMemoryPool();
        pair.Client.Blocking = false;
        var output = new SocketSender(pair.Client, blocks);
        pair.Client.Dispose(); // as Abort does on another thread, but without telling the sender first
        output.GetSpan(size)[..size].Fill(1);
        output.Advance(size);
        var result = await output.FlushAsync().AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCompleted);
        await output.CompleteAsync();
        Assert.Equal(0, blocks.Outstanding);
        Assert.Equal(0, output.HeldSegments);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task CompletingAfterACanceledFlushLeftBytesSendsNoFin(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var output = (SocketSender)pair.Server.Pipe.Output;
        const int Written = 16 * 1024 * 1024; // far more than the kernel's buffers: the flush waits with most of it
        WritePattern(output, 0, Written);
        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted);
        output.CancelPendingFlush();
        var reading = Task.Run(() => ReadUntilTheEndAsync(pair.Client)); // makes room, so the send under way ends
        var result = await flush.AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCanceled);
        Assert.True(output.HeldSegments > 0); // nothing sent after the send under way, however fast the reader drains
        await output.CompleteAsync(); // flushed bytes are still unsent: a FIN now would end the stream mid-message
        await pair.Server.DisposeAsync();
        var (total, error) = await reading.WaitAsync(s_deadline);
        Assert.Equal(SocketError.ConnectionReset, error); // not a clean end of stream
        Assert.True(total < Written);
    }

    /// <summary>Reads until the end of the stream; the bytes read and how it ended (Success: a clean FIN).</summary>
    private static async Task<(long Total, SocketError Error)> ReadUntilTheEndAsync(Socket client)
    {
        var buffer = new byte[256 * 1024];
        long total = 0;
        try
        {
            while (true)
            {
                var n = await client.ReceiveAsync(buffer.AsMemory());
                if (n == 0)
                {
                    return (total, SocketError.Success);
                }
                total += n;
            }
        }
        catch (SocketException e)
        {
            return (total, e.SocketErrorCode);
        }
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task TheInputCarriesWhatArrivedAndEndsAtThePeersFin(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
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

    [Theory]
    [MemberData(nameof(BothPaths))]
    public async Task AbortEndsAWaitingReadWithoutAnError(bool ioLoops)
    {
        await using var pair = await Pair.ConnectAsync(ioLoops);
        var input = pair.Server.Pipe.Input;
        var read = input.ReadAsync();
        Assert.False(read.IsCompleted);
        pair.Server.Abort();
        var result = await read.AsTask().WaitAsync(s_deadline);
        Assert.True(result.IsCompleted);
        Assert.True((await pair.Server.Pipe.Output.FlushAsync()).IsCompleted);
    }

    /// <summary>Writes <paramref name="count"/> bytes of <see cref="Fill"/>'s pattern from <paramref name="position"/>, span by span as the frame writer does.</summary>
    private static void WritePattern(SocketSender output, long position, int count)
    {
        for (var written = 0; written < count;)
        {
            var span = output.GetSpan();
            var n = Math.Min(span.Length, count - written);
            Fill(span[..n], position + written);
            output.Advance(n);
            written += n;
        }
    }

    /// <summary>Writes 4 KiB blocks of <see cref="Fill"/>'s pattern and flushes each, until a flush has to wait.</summary>
    private static (ValueTask<FlushResult> Flush, long Written) WriteUntilTheKernelPushesBack(SocketSender output)
    {
        long written = 0;
        while (true)
        {
            Fill(output.GetSpan(4096)[..4096], written);
            output.Advance(4096);
            written += 4096;
            var flush = output.FlushAsync();
            if (!flush.IsCompleted)
            {
                return (flush, written);
            }
            Assert.True(written < 1L << 30, "the kernel never pushed back");
        }
    }

    private static SharedFrame Frame(int payloadLength, int seed)
    {
        var payload = Pattern(seed * 1000, payloadLength);
        return SharedFrame.Create(payload);
    }

    private static byte[] Pattern(long position, int count)
    {
        var bytes = new byte[count];
        Fill(bytes, position);
        return bytes;
    }

    /// <summary>Everything the client receives until FIN.</summary>
    private static async Task<byte[]> ReadAllAsync(Socket client)
    {
        var received = new MemoryStream();
        var buffer = new byte[256 * 1024];
        using var timeout = new CancellationTokenSource(s_deadline);
        while (true)
        {
            var n = await client.ReceiveAsync(buffer, timeout.Token);
            if (n == 0)
            {
                return received.ToArray();
            }
            received.Write(buffer, 0, n);
        }
    }

    private static long TryReadMore(PipeReader input)
    {
        if (!input.TryRead(out var result))
        {
            return 0;
        }
        var length = result.Buffer.Length;
        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        return length;
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
    private sealed class Pair(RawSocketListener listener, Socket client, TransportConnection server, BlockMemoryPool blocks) : IAsyncDisposable
    {
        public Socket Client => client;

        /// <summary>The pool the server's sender takes its blocks from (its own: counts are exact).</summary>
        public BlockMemoryPool Blocks => blocks;

        public TransportConnection Server => server;

        public static async Task<Pair> ConnectAsync(bool ioLoops = true)
        {
            var blocks = new BlockMemoryPool();
            var bound = RawSocketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0), blocks, ioLoops);
            var connecting = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
            await connecting.ConnectAsync(bound.Endpoint);
            var accepted = await bound.AcceptAsync(CancellationToken.None).AsTask().WaitAsync(s_deadline);
            return new Pair(bound, connecting, accepted!, blocks);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Server.Pipe.Output.CompleteAsync();
            await Server.Pipe.Input.CompleteAsync();
            await Server.DisposeAsync();
            await listener.DisposeAsync();
        }
    }
}
