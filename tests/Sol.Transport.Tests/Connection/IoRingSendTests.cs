using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using Sol.Transport.Sockets;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// <see cref="SocketSender"/> with batched sends: a flush made on a thread with an <see cref="IoRing"/> joins the ring's
/// batch and completes when <see cref="IoRing.Submit"/> hands out the results. Most tests drive their own ring by hand on
/// one thread (a ring takes submissions only from the thread that made it; one test enters it from another thread on
/// purpose, to make the call fail), with no I/O loop: <see cref="SocketSender.OnWritable"/> stands in for the loop's
/// <c>EPOLLOUT</c>. The loops' own rings are covered by one test over a real server here and by every raw-kind socket test.
/// </summary>
public sealed class IoRingSendTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    [SkippableFact]
    public void AFlushWaitsForTheBatchAndCompletesWhenItGoesOut()
    {
        using var ring = RingScope.Create(capacity: 4);
        using var a = Pair.Connect();
        using var b = Pair.Connect();
        Write(a.Sender, 0, 300);
        Write(b.Sender, 0, 5000); // two blocks: one sendmsg with two vectors
        var flushA = a.Sender.FlushAsync();
        var flushB = b.Sender.FlushAsync();

        Assert.False(flushA.IsCompleted);
        Assert.False(flushB.IsCompleted);
        Assert.Equal(2, ring.Ring.Pending);
        Assert.Equal(0, a.Client.Available); // nothing went out before the batch

        ring.Ring.Submit();

        Assert.Equal(2, ring.Ring.Sent);
        Assert.Equal(0, ring.Ring.Pending);
        foreach (var flush in new[] { flushA, flushB })
        {
            Assert.True(flush.IsCompleted);
            var result = flush.Result;
            Assert.False(result.IsCompleted);
            Assert.False(result.IsCanceled);
        }
        a.ReadAndCheck(0, 300);
        b.ReadAndCheck(0, 5000);
        Assert.Equal(0, a.Sender.HeldSegments);
        Assert.Equal(0, a.Blocks.Outstanding);
        Assert.Equal(0, b.Blocks.Outstanding);
    }

    [SkippableFact]
    public void AOnePieceFlushGoesAsAPlainSendAndOneOfSeveralPiecesAsSendmsgInTheSameBatch()
    {
        using var ring = RingScope.Create(capacity: 4);
        Skip.IfNot(ring.Ring.PlainSends, "this kernel has no IORING_OP_SEND");
        using var a = Pair.Connect();
        using var b = Pair.Connect();
        Write(a.Sender, 0, 300);  // one block
        Write(b.Sender, 0, 5000); // two blocks
        var flushA = a.Sender.FlushAsync();
        var flushB = b.Sender.FlushAsync();

        ring.Ring.Submit();

        Assert.True(flushA.IsCompleted && flushB.IsCompleted);
        Assert.Equal(2, ring.Ring.Sent);
        Assert.Equal(1, ring.Ring.PlainSent);
        Assert.Equal(1, ring.Ring.Batches);
        a.ReadAndCheck(0, 300);
        b.ReadAndCheck(0, 5000);
    }

    [SkippableTheory]
    [InlineData(200)]
    [InlineData(3000)]
    public void ASharedFrameThatStartsAFlushGoesOutFromItsOwnBytesAndItsReferenceIsReleasedOnceSent(int payloadLength)
    {
        using var ring = RingScope.Create(capacity: 4);
        using var a = Pair.Connect();
        using var b = Pair.Connect();
        var payload = new byte[payloadLength];
        Fill(payload, 0);
        var frame = SharedFrame.Create(payload);
        var expected = frame.Frame.ToArray();
        foreach (var pair in new[] { a, b })
        {
            frame.AddReference();
            pair.Sender.WriteShared(frame); // takes that reference over
        }
        Assert.True(frame.Pinned);
        Assert.Equal(3, frame.References);
        var flushA = a.Sender.FlushAsync();
        var flushB = b.Sender.FlushAsync();
        Assert.False(flushA.IsCompleted || flushB.IsCompleted); // both wait in the batch
        Assert.Equal(2, ring.Ring.Pending);

        ring.Ring.Submit();

        Assert.True(flushA.IsCompleted && flushB.IsCompleted);
        Assert.Equal(2, ring.Ring.Sent);
        Assert.Equal(1, frame.References); // the creator's
        Assert.Equal(0, a.Blocks.Created); // nothing was copied into a block
        Assert.Equal(0, b.Blocks.Created);
        if (ring.Ring.PlainSends)
        {
            Assert.Equal(2, ring.Ring.PlainSent);
        }
        foreach (var pair in new[] { a, b })
        {
            Assert.Equal(expected, pair.ReadExactly(expected.Length));
            Assert.Equal(0, pair.Sender.HeldSegments);
        }
        frame.Release();
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void BlocksAndSharedFramesGoOutInOrderThroughARingSendThatStopsShortAndSendsOnWhenThereIsRoom(bool completeWhileWaiting)
    {
        using var ring = RingScope.Create(capacity: 4);
        using var pair = Pair.Connect(); // a 16 KiB receive buffer: the ring's send stops short
        var expected = new List<byte>();
        var frames = new List<SharedFrame>();
        Write(pair.Sender, 0, 100);
        expected.AddRange(Pattern(0, 100));
        foreach (var length in new[] { 3 * 1024 * 1024, 2000, 50, 700_000 })
        {
            var frame = SharedFrame.Create(Pattern(length, length));
            frames.Add(frame);
            frame.AddReference();
            pair.Sender.WriteShared(frame);
            expected.AddRange(frame.Frame.ToArray());
            Write(pair.Sender, 7, 37);
            expected.AddRange(Pattern(7, 37));
        }
        // The 3 MiB and 700 KB frames are segments of their own; the 2000 B one fits the block being written and the
        // 50 B one is short and behind other bytes: both copied.
        Assert.Equal([true, false, false, true], frames.Select(frame => frame.Pinned));
        var flush = pair.Sender.FlushAsync();
        Assert.False(flush.IsCompleted);

        ring.Ring.Submit();

        Assert.False(flush.IsCompleted); // far more than the kernel holds: it waits for room
        var reading = Task.Run(() => pair.ReadExactly(expected.Count));
        if (completeWhileWaiting)
        {
            pair.Sender.Complete(); // only marks the writer: the flush goes on, and FIN follows it
            Assert.Equal(2, frames[^1].References); // the last frame cannot have gone yet
        }
        var deadline = DateTime.UtcNow + s_deadline;
        while (!flush.IsCompleted)
        {
            // Stands in for the loop's EPOLLOUT.
            Assert.True(DateTime.UtcNow < deadline, "the flush never completed");
            pair.Sender.OnWritable();
            Thread.Yield();
        }
        Assert.Equal(expected.ToArray(), reading.Result);
        Assert.All(frames, frame => Assert.Equal(1, frame.References));
        Assert.Equal(0, pair.Sender.HeldSegments);
        Assert.Equal(expected.Count, pair.Sender.BytesSent);
        Assert.Equal(0, pair.Blocks.Outstanding);
        foreach (var frame in frames)
        {
            frame.Release();
        }
    }

    [SkippableFact]
    public void AFullKernelAnswersEagainAndTheFlushWaitsForRoomThenCompletesWithEveryByteInOrder()
    {
        using var ring = RingScope.Create(capacity: 4);
        using var pair = Pair.Connect();
        var filled = pair.FillKernel(); // the client reads nothing yet: its window and our send buffer are full
        const int Tail = 256 * 1024;
        Write(pair.Sender, filled, Tail);
        var flush = pair.Sender.FlushAsync();
        Assert.False(flush.IsCompleted);

        ring.Ring.Submit();

        Assert.Equal(1, ring.Ring.WouldBlock);
        Assert.False(flush.IsCompleted); // handed to OnWritable, as after a full sendmsg
        var reading = Task.Run(() => pair.ReadAndCheck(0, filled + Tail));
        var deadline = DateTime.UtcNow + s_deadline;
        while (!flush.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the flush never completed");
            pair.Sender.OnWritable(); // the loop's EPOLLOUT, as often as the test can say it
            Thread.Yield();
        }
        Assert.False(flush.Result.IsCompleted);
        Assert.True(reading.Wait(s_deadline));
        Assert.Equal(0, pair.Blocks.Outstanding);
        Assert.Equal(Tail, pair.Sender.BytesSent); // the filling went straight on the socket
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void ASocketTornDownBeforeItsBatchGoesOutEndsTheFlushAsCompletedAndGivesTheBlocksBack(bool failedFirst)
    {
        using var ring = RingScope.Create(capacity: 4);
        using var pair = Pair.Connect();
        Write(pair.Sender, 0, 300);
        var flush = pair.Sender.FlushAsync();
        if (failedFirst)
        {
            pair.Sender.Fail(); // as RawSocketConnection.Abort does before it disposes the socket
        }
        pair.Server.Dispose();

        ring.Ring.Submit();

        Assert.True(flush.IsCompleted);
        Assert.True(flush.Result.IsCompleted);
        Assert.Equal(0, ring.Ring.Sent); // nothing reached the kernel
        pair.Sender.Complete();
        Assert.Equal(0, pair.Blocks.Outstanding);
    }

    [SkippableFact]
    public void AFlushThatFindsTheBatchFullSendsAtOnce()
    {
        using var ring = RingScope.Create(capacity: 1);
        using var a = Pair.Connect();
        using var b = Pair.Connect();
        Write(a.Sender, 0, 100);
        Write(b.Sender, 0, 100);
        var queued = a.Sender.FlushAsync();
        var direct = b.Sender.FlushAsync();

        Assert.False(queued.IsCompleted);
        Assert.True(direct.IsCompleted);
        b.ReadAndCheck(0, 100);
        ring.Ring.Submit();
        Assert.True(queued.IsCompleted);
        a.ReadAndCheck(0, 100);
    }

    [SkippableFact]
    public void AWriterResumedByABatchsCompletionJoinsTheNextBatch()
    {
        using var ring = RingScope.Create(capacity: 4);
        using var pair = Pair.Connect();
        Write(pair.Sender, 0, 100);
        var first = pair.Sender.FlushAsync();
        ValueTask<FlushResult>? second = null;
        var completing = false;
        // As WebSocketConnection.Pump does: the continuation runs inside Submit, writes the next message and flushes.
        first.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() =>
        {
            completing = IoRing.Completing;
            Write(pair.Sender, 100, 200);
            second = pair.Sender.FlushAsync();
        });

        ring.Ring.Submit();

        Assert.True(completing); // the first flush completed inside Submit (its ValueTask is spent: the source went on)
        Assert.NotNull(second);
        Assert.False(second.Value.IsCompleted); // in the next batch, not sent inside this one
        Assert.Equal(1, ring.Ring.Pending);
        ring.Ring.Submit();
        Assert.True(second.Value.IsCompleted);
        pair.ReadAndCheck(0, 300);
        Assert.Equal(2, ring.Ring.Sent);
    }

    [SkippableFact]
    public async Task AContinuationThatThrowsLeavesTheRestOfTheBatchAndTheRingWhole()
    {
        var faults = new List<Exception>();
        Pair a, b, c;
        using (var ring = RingScope.Create(capacity: 4, faults.Add))
        {
            a = Pair.Connect();
            b = Pair.Connect();
            c = Pair.Connect();
            Write(a.Sender, 0, 100);
            Write(b.Sender, 0, 100);
            var first = a.Sender.FlushAsync();
            var second = b.Sender.FlushAsync();
            first.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => throw new InvalidOperationException("a continuation's bug"));

            ring.Ring.Submit(); // must not throw

            var fault = Assert.Single(faults);
            Assert.Equal("a continuation's bug", fault.Message);
            Assert.True(second.IsCompleted);
            Assert.False(second.Result.IsCompleted);
            b.ReadAndCheck(0, 100);
            // The ring goes on: the next batch is whole.
            Write(c.Sender, 0, 100);
            var third = c.Sender.FlushAsync();
            ring.Ring.Submit();
            Assert.True(third.IsCompleted);
            c.ReadAndCheck(0, 100);
            Assert.Equal(3, ring.Ring.Sent);
        }
        // Every descriptor of the batch was let go: disposing a socket does not wait for a reference never released.
        await Task.Run(() =>
        {
            a.Dispose();
            b.Dispose();
            c.Dispose();
        }).WaitAsync(s_deadline);
    }

    [SkippableFact]
    public async Task AMessageQueuedWhileItsWritersFlushWaitsInTheBatchStillGoesOutOnAnIdleLoop()
    {
        Skip.IfNot(IoLoop.IsSupported && WebSocketServer.IoRings > 0, "no I/O loops with io_uring here");
        // The handler sends [1] (its writer's flush joins the loop's batch), then a posted item sends [2], which only
        // queues: the writer is still marked scheduled. The batch's completion resumes the writer, which writes [2]
        // into the next batch — and then nothing else happens on this loop. It must not sleep with that batch waiting.
        var handler = new TwoStepHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = SocketTransportKind.Raw }, handler);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{server.Endpoint}/ws"), CancellationToken.None).WaitAsync(s_deadline);
        await client.SendAsync(new byte[] { 0 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[16];
        using var timeout = new CancellationTokenSource(s_deadline);
        foreach (var expected in new byte[] { 1, 2 })
        {
            var received = await client.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(1, received.Count);
            Assert.Equal(expected, buffer[0]);
        }
        Assert.True(handler.PostedFromALoop);
    }

    [SkippableFact]
    public void WhereTheKernelMakesRingsTryCreateMakesOne()
    {
        // If the probe for IORING_OP_SENDMSG answered wrongly, TryCreate would return null and every other test here
        // would skip: this one fails instead wherever io_uring_setup itself works on a kernel that has SENDMSG (5.6+).
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.OSVersion.Version >= new Version(5, 6), "needs Linux 5.6 or later");
        var parameters = new byte[120];
        var fd = (int)Syscall(425, 8, parameters, 0, 0, 0, 0);
        Skip.If(fd < 0, "io_uring_setup is refused here (seccomp or kernel.io_uring_disabled)");
        Close(fd);
        using var ring = IoRing.TryCreate(capacity: 4);
        Assert.NotNull(ring);
    }

    [SkippableFact]
    public async Task AContinuationThatTearsDownAnotherSocketOfTheBatchDoesNotWaitForIt()
    {
        // A flush's continuation disposes a socket whose send is in the same batch. Every descriptor of the batch must
        // be let go before any continuation runs, or Dispose waits forever for the ring's reference on the loop's thread.
        await Task.Run(() =>
        {
            using var ring = RingScope.Create(capacity: 4);
            using var a = Pair.Connect();
            using var b = Pair.Connect();
            Write(a.Sender, 0, 100);
            Write(b.Sender, 0, 100);
            var first = a.Sender.FlushAsync();
            var second = b.Sender.FlushAsync();
            first.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => b.Server.Dispose());

            ring.Ring.Submit();

            Assert.True(second.IsCompleted);
            a.ReadAndCheck(0, 100);
        }).WaitAsync(s_deadline);
    }

    [SkippableFact]
    public void AFailedEnterHandsEveryFlushToSendmsgAndTheRingIsNotUsedAgain()
    {
        using var ring = RingScope.Create(capacity: 4);
        Skip.IfNot(ring.Ring.SingleIssuer, "the kernel has no IORING_SETUP_SINGLE_ISSUER (Linux 6.0+) to make io_uring_enter fail");
        using var a = Pair.Connect();
        using var b = Pair.Connect();
        using var c = Pair.Connect();
        Write(a.Sender, 0, 100);
        Write(b.Sender, 0, 100);
        Write(c.Sender, 0, 100);
        var first = a.Sender.FlushAsync();
        var second = b.Sender.FlushAsync();
        var third = c.Sender.FlushAsync();
        first.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => c.Server.Dispose());

        // Entered from another thread than the one that made it, a single-issuer ring fails (-EEXIST): nothing of the
        // batch reached the kernel, so each flush sends with sendmsg instead, and the ring is not entered again.
        var maker = Environment.CurrentManagedThreadId;
        Exception? failure = null;
        var other = new Thread(() => failure = Record.Exception(ring.Ring.Submit));
        other.Start();
        Assert.True(other.Join(s_deadline), "Submit did not return");
        Assert.NotEqual(maker, other.ManagedThreadId);

        Assert.IsType<IOException>(failure);
        Assert.True(ring.Ring.Broken);
        Assert.Equal(0, ring.Ring.Sent);
        Assert.False(first.Result.IsCompleted);
        Assert.False(second.Result.IsCompleted);
        Assert.True(third.IsCompleted); // its socket went in the first one's continuation
        a.ReadAndCheck(0, 100);
        b.ReadAndCheck(0, 100);
        Write(a.Sender, 100, 50);
        Assert.True(a.Sender.FlushAsync().IsCompleted); // TryQueue refuses now: it sends at once
        Assert.Equal(0, ring.Ring.Pending);
        a.ReadAndCheck(100, 50);
    }

    [SkippableTheory]
    [InlineData(false, 100)]
    [InlineData(true, 100)]
    [InlineData(false, 40 * 4096)] // more blocks than one send's 32 vectors: the rest goes out with sendmsg at once
    [InlineData(true, 40 * 4096)]
    public void ARingFlushThatSentEverythingIsCanceledOnlyByCancelPendingFlushAsADirectOneIs(bool cancelPendingFlush, int length)
    {
        using var ring = RingScope.Create(capacity: 4);
        using var pair = Pair.Connect(roomy: true); // the kernel takes all of it without the client reading
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        Write(pair.Sender, 0, length);
        var flush = pair.Sender.FlushAsync(canceled.Token); // the token is only looked at between sends, as for sendmsg
        if (cancelPendingFlush)
        {
            pair.Sender.CancelPendingFlush();
        }

        ring.Ring.Submit();

        Assert.Equal(cancelPendingFlush, flush.Result.IsCanceled);
        Assert.Equal(0, pair.Sender.HeldSegments); // every byte went out, as a direct flush sends it
        pair.ReadAndCheck(0, length);
    }

    [Theory]
    [InlineData(100, 100, false)]
    [InlineData(0, 0, false)]
    [InlineData(-11, -11, false)]  // -EAGAIN: the kernel is full
    [InlineData(-104, -104, false)] // -ECONNRESET: the socket failed
    [InlineData(-4, IoRing.NotSent, false)]   // -EINTR: tried again with sendmsg
    [InlineData(-22, IoRing.NotSent, true)]   // -EINVAL: the operation refused; sendmsg instead, ring not used again
    [InlineData(-95, IoRing.NotSent, true)]   // -EOPNOTSUPP: the same
    public void ACompletionsResultIsToldToTheSenderAsSendmsgWouldHaveIt(int result, int told, bool refused)
    {
        Assert.Equal(told, IoRing.ForSender(result, out var wasRefused));
        Assert.Equal(refused, wasRefused);
    }

    [Fact]
    public void AFlushWithNoRingOnItsThreadSendsAtOnce()
    {
        Assert.Null(IoRing.Current); // a test thread is no I/O loop
        using var pair = Pair.Connect();
        Write(pair.Sender, 0, 100);
        Assert.True(pair.Sender.FlushAsync().IsCompleted);
        pair.ReadAndCheck(0, 100);
    }

#pragma warning disable SYSLIB1054 // the test project has no unsafe code for LibraryImport; a byte[] marshals pinned here
    [DllImport("libc", EntryPoint = "syscall")]
    private static extern nint Syscall(nint number, nint a1, [In, Out] byte[] a2, nint a3, nint a4, nint a5, nint a6);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
#pragma warning restore SYSLIB1054

    private static void Write(PipeWriter output, long position, int count)
    {
        while (count > 0)
        {
            var span = output.GetSpan(1);
            var take = Math.Min(span.Length, count);
            Fill(span[..take], position);
            output.Advance(take);
            position += take;
            count -= take;
        }
    }

    private static byte[] Pattern(long position, int count)
    {
        var bytes = new byte[count];
        Fill(bytes, position);
        return bytes;
    }

    private static void Fill(Span<byte> span, long position)
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (byte)((position + i) * 31 % 251);
        }
    }

    /// <summary>Answers a client's first message with [1] at once and [2] from an item posted to the same I/O loop.</summary>
    private sealed class TwoStepHandler : IWebSocketHandler
    {
        public bool PostedFromALoop { get; private set; }

        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept(null));

        public ValueTask OnOpenAsync(WebSocketConnection connection) => ValueTask.CompletedTask;

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
        {
            connection.Send([1]);
            PostedFromALoop = IoLoop.Current is not null;
            IoLoop.PostHereOrAnywhere(new SendTwo(connection));
        }

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status) => ValueTask.CompletedTask;

        private sealed class SendTwo(WebSocketConnection connection) : IThreadPoolWorkItem
        {
            public void Execute() => connection.Send([2]);
        }
    }

    /// <summary>A ring made on this thread and set as its current one, for one test; skips where io_uring is refused.</summary>
    private sealed class RingScope : IDisposable
    {
        private readonly IoRing? _previous;

        private RingScope(IoRing ring)
        {
            Ring = ring;
            _previous = IoRing.Current;
            IoRing.Current = ring;
        }

        public IoRing Ring { get; }

        public static RingScope Create(int capacity, Action<Exception>? faults = null)
        {
            var ring = IoRing.TryCreate(capacity, faults);
            Skip.If(ring is null, "io_uring is not available here (kernel, seccomp or kernel.io_uring_disabled)");
            return new RingScope(ring!);
        }

        public void Dispose()
        {
            IoRing.Current = _previous;
            Ring.Dispose();
        }
    }

    /// <summary>A loopback connection: the server side's <see cref="SocketSender"/> (ring sends on) and a blocking client.</summary>
    private sealed class Pair : IDisposable
    {
        private long _read;

        private Pair(Socket server, Socket client)
        {
            Server = server;
            Client = client;
            Sender = new SocketSender(server, Blocks, roomFromLoop: true, ringSends: true);
        }

        public Socket Server { get; }

        public Socket Client { get; }

        public BlockMemoryPool Blocks { get; } = new();

        public SocketSender Sender { get; }

        /// <summary>A connected pair; <paramref name="roomy"/>: buffers of some 400 KiB each way instead of a 16 KiB receive buffer.</summary>
        public static Pair Connect(bool roomy = false)
        {
            using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            var client = new Socket(SocketType.Stream, ProtocolType.Tcp)
            {
                ReceiveBufferSize = roomy ? 4 << 20 : 16 * 1024, // the kernel caps it (net.core.rmem_max)
                ReceiveTimeout = 20_000,
            };
            client.Connect(listener.LocalEndPoint!);
            var server = listener.Accept();
            server.Blocking = false;
            server.NoDelay = true;
            if (roomy)
            {
                server.SendBufferSize = 4 << 20;
            }
            return new Pair(server, client);
        }

        /// <summary>Sends the pattern straight on the socket until the kernel takes no more; the bytes sent.</summary>
        public int FillKernel()
        {
            var chunk = new byte[64 * 1024];
            var sent = 0;
            while (true)
            {
                Fill(chunk, sent);
                var n = Server.Send(chunk, 0, chunk.Length, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    return sent;
                }
                Assert.Equal(SocketError.Success, error);
                sent += n;
                Assert.True(sent < 1 << 30, "the kernel never pushed back");
            }
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes (outside the pattern's bookkeeping).</summary>
        public byte[] ReadExactly(int count)
        {
            var buffer = new byte[count];
            for (var read = 0; read < count;)
            {
                var n = Client.Receive(buffer, read, count - read, SocketFlags.None);
                Assert.True(n > 0, "the connection ended early");
                read += n;
            }
            return buffer;
        }

        /// <summary>Reads <paramref name="count"/> bytes, checking them against the pattern from <paramref name="position"/>.</summary>
        public void ReadAndCheck(long position, long count)
        {
            Assert.Equal(_read, position);
            var buffer = new byte[64 * 1024];
            while (count > 0)
            {
                var n = Client.Receive(buffer, 0, (int)Math.Min(buffer.Length, count), SocketFlags.None);
                Assert.True(n > 0, "the connection ended early");
                for (var i = 0; i < n; i++)
                {
                    Assert.Equal((byte)((position + i) * 31 % 251), buffer[i]);
                }
                position += n;
                count -= n;
            }
            _read = position;
        }

        public void Dispose()
        {
            Sender.Complete();
            Client.Dispose();
            Server.Dispose();
        }
    }
}
