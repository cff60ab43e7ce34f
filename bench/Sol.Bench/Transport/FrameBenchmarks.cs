using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Sol.Transport;
using Sol.Transport.Frames;

namespace Sol.Bench.Transport;

/// <summary>
/// Frame parse + unmask and frame write, Sol.Transport against the runtime's <c>WebSocket.CreateFromStream</c>
/// (ManagedWebSocket) on the same bytes from/to a <see cref="MemoryStream"/> (the baseline of each category).
/// Receive: one masked binary client frame per operation. Sol unmasks in place in the buffer it is given and hands the
/// payload over (the pipe's memory); the runtime copies into the caller's buffer, as it always does. Write: one
/// unmasked binary server frame per operation; Sol writes header and payload into a reused buffer (as the runtime
/// writes into a reused MemoryStream); <c>SolWriteThroughPipe</c> adds what the connection's writer really pays per
/// flush: a <see cref="Pipe"/>'s GetSpan/Advance, FlushAsync, and the reader consuming it.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class FrameBenchmarks
{
    private readonly byte[] _receiveBuffer = new byte[1 << 17];
    private byte[] _payload = [];
    private byte[] _clientFrame = [];
    private ReadOnlySequence<byte> _clientSequence;
    private MessageReader _reader = null!;
    private readonly CountingSink _sink = new();
    private MemoryStream _receiveStream = null!;
    private WebSocket _runtimeReceiver = null!;
    private Pipe _pipe = null!;
    private FixedBufferWriter _buffer = null!;
    private MemoryStream _sendStream = null!;
    private WebSocket _runtimeSender = null!;

    [Params(16, 1024, 65536)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[PayloadSize];
        new Random(42).NextBytes(_payload);
        _clientFrame = MaskedClientFrame(_payload);
        _clientSequence = new ReadOnlySequence<byte>(_clientFrame);
        _reader = new MessageReader(1 << 20, ArrayPool<byte>.Shared);
        _receiveStream = new MemoryStream((byte[])_clientFrame.Clone(), writable: true);
        _runtimeReceiver = WebSocket.CreateFromStream(_receiveStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        _buffer = new FixedBufferWriter(PayloadSize + 64);
        _sendStream = new MemoryStream(new byte[PayloadSize + 64], writable: true);
        _runtimeSender = WebSocket.CreateFromStream(_sendStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    }

    [BenchmarkCategory("Receive"), Benchmark]
    public int SolParseAndUnmask()
    {
        // Unmasking in place flips the buffer between masked and plain on every call: the same work each time.
        _reader.Read(_clientSequence, _sink, out _, out _, out _);
        return _sink.Bytes;
    }

    [BenchmarkCategory("Receive"), Benchmark(Baseline = true)]
    public int RuntimeReceive()
    {
        _receiveStream.Position = 0;
        var receive = _runtimeReceiver.ReceiveAsync(_receiveBuffer.AsMemory(), CancellationToken.None);
        return receive.IsCompletedSuccessfully ? receive.Result.Count : receive.AsTask().GetAwaiter().GetResult().Count;
    }

    [BenchmarkCategory("Write"), Benchmark]
    public long SolWrite()
    {
        _buffer.Reset();
        FrameWriter.Write(_buffer, Opcode.Binary, _payload);
        return _buffer.Written;
    }

    [BenchmarkCategory("Write"), Benchmark]
    public long SolWriteThroughPipe()
    {
        FrameWriter.Write(_pipe.Writer, Opcode.Binary, _payload);
        _ = _pipe.Writer.FlushAsync().GetAwaiter().GetResult();
        _pipe.Reader.TryRead(out var result);
        var length = result.Buffer.Length;
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }

    [BenchmarkCategory("Write"), Benchmark(Baseline = true)]
    public long RuntimeWrite()
    {
        _sendStream.Position = 0;
        var send = _runtimeSender.SendAsync(_payload.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        if (!send.IsCompletedSuccessfully)
        {
            send.AsTask().GetAwaiter().GetResult();
        }
        return _sendStream.Position;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Release();
        _runtimeReceiver.Dispose();
        _runtimeSender.Dispose();
    }

    private static byte[] MaskedClientFrame(byte[] payload)
    {
        byte[] mask = [0x1F, 0x2E, 0x3D, 0x4C];
        var header = new List<byte> { 0x82 };
        if (payload.Length <= 125)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add(0x80 | 127);
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                header.Add((byte)((long)payload.Length >> shift));
            }
        }
        header.AddRange(mask);
        var frame = new byte[header.Count + payload.Length];
        header.CopyTo(frame);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header.Count + i] = (byte)(payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /// <summary>A reused array as the write target (what a MemoryStream is to the runtime).</summary>
    private sealed class FixedBufferWriter(int capacity) : IBufferWriter<byte>
    {
        private readonly byte[] _array = new byte[capacity];

        public int Written { get; private set; }

        public void Reset() => Written = 0;

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => _array.AsMemory(Written);

        public Span<byte> GetSpan(int sizeHint = 0) => _array.AsSpan(Written);
    }

    private sealed class CountingSink : IFrameSink
    {
        public int Bytes { get; private set; }

        public void OnMessage(WebSocketMessageKind kind, in ReadOnlySequence<byte> payload) => Bytes += (int)payload.Length;

        public void OnPing(ReadOnlySpan<byte> payload)
        {
        }

        public void OnPong(ReadOnlySpan<byte> payload)
        {
        }

        public void OnClose(int code, ReadOnlySpan<byte> reason)
        {
        }
    }
}
