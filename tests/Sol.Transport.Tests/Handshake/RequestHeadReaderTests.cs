using System.Buffers;
using System.Text;
using Sol.Testing;
using Sol.Transport.Handshake;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Handshake;

public sealed class RequestHeadReaderTests
{
    private static readonly byte[] s_valid = Encoding.ASCII.GetBytes(
        "GET /ws?access_token=a%20b&x=1 HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Twice: a\r\nx-twice: b\r\n\r\n");

    [Fact]
    public void EveryPrefixOfAValidHeadIsIncompleteAndTheWholeHeadParses()
    {
        for (var prefix = 0; prefix < s_valid.Length; prefix++)
        {
            var scan = RequestHeadReader.Scan(new ReadOnlySequence<byte>(s_valid, 0, prefix), 8192, out _);
            Assert.Equal(HeadScan.Incomplete, scan);
        }
        foreach (var segmentSize in new[] { 1, 2, 3, 7, s_valid.Length })
        {
            var withFrameAfter = s_valid.Concat(new byte[] { 0x81, 0x80 }).ToArray();
            var buffer = Segments.Split(withFrameAfter, segmentSize);
            Assert.Equal(HeadScan.Complete, RequestHeadReader.Scan(buffer, 8192, out var end));
            Assert.Equal(s_valid.Length, buffer.Slice(0, end).Length); // the bytes after the head stay in the pipe
        }

        var head = new RequestHeadReader(s_valid).Read();

        Assert.NotNull(head);
        Assert.Equal("GET", head.Method);
        Assert.Equal("/ws?access_token=a%20b&x=1", head.Target);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.Equal("websocket", head["upgrade"]);
        Assert.Equal("a, b", head["X-TWICE"]);
    }

    [Fact]
    public void ScanReportsTooLargeBeforeParsingWhenNoBlankLineFitsTheLimit()
    {
        var big = Encoding.ASCII.GetBytes("GET /ws HTTP/1.1\r\nX: " + new string('a', 9000));
        Assert.Equal(HeadScan.TooLarge, RequestHeadReader.Scan(new ReadOnlySequence<byte>(big), 8192, out _));
        var justOver = Encoding.ASCII.GetBytes("GET /ws HTTP/1.1\r\nX: " + new string('a', 8192) + "\r\n\r\n");
        Assert.Equal(HeadScan.TooLarge, RequestHeadReader.Scan(new ReadOnlySequence<byte>(justOver), 8192, out _));
    }

    [Theory]
    [InlineData("GET /ws HTTP/1.1\nHost: a\r\n\r\n")]                 // bare LF
    [InlineData("GET /ws HTTP/1.1\r\nHost : a\r\n\r\n")]              // space before the colon
    [InlineData("GET /ws HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n")]    // obs-fold
    [InlineData("GET /ws HTTP/1.1\r\nHo(st: a\r\n\r\n")]              // not a token
    [InlineData("GET /ws HTTP/1.1\r\n: a\r\n\r\n")]                   // empty name
    [InlineData("GET /ws HTTP/1.1\r\nHost: a\0b\r\n\r\n")]            // control character
    [InlineData("GET  /ws HTTP/1.1\r\nHost: a\r\n\r\n")]              // two spaces
    [InlineData("GET /ws HTTP/1.1 \r\nHost: a\r\n\r\n")]              // trailing space
    [InlineData("GET /ws HTTX/1.1\r\nHost: a\r\n\r\n")]               // not a version
    [InlineData("G@T /ws HTTP/1.1\r\nHost: a\r\n\r\n")]               // method not a token
    [InlineData("GET /w\rs HTTP/1.1\r\nHost: a\r\n\r\n")]             // CR in the target
    [InlineData("GET /ws HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n")]     // two Host headers (RFC 9112 §3.2)
    [InlineData("GET /w\u00e9s HTTP/1.1\r\nHost: a\r\n\r\n")]          // a byte over 0x7F in the target (was read as '?')
    [InlineData("GET /ws\u00ffaccess_token=t HTTP/1.1\r\nHost: a\r\n\r\n")]
    public void ReadRejectsAMalformedHead(string text)
    {
        Assert.Null(new RequestHeadReader(Encoding.Latin1.GetBytes(text)).Read());
    }

    [Theory]
    [InlineData("GET /ws HTTP/1.1\nHost: a\n\n")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: a\nUpgrade: websocket\r\n")] // one bare LF, and no blank line yet
    [InlineData("\n")]
    public void AHeadWithABareLfIsCompleteAtItSoItIsRefusedNotLeftToTheTimeout(string text)
    {
        // helper-54: such a head never holds CRLF CRLF, so it waited for the handshake timeout instead of a 400.
        var bytes = Encoding.ASCII.GetBytes(text);
        foreach (var segmentSize in new[] { 1, 2, 5, bytes.Length })
        {
            var buffer = Segments.Split(bytes, segmentSize);
            Assert.Equal(HeadScan.Complete, RequestHeadReader.Scan(buffer, 8192, out var end));
            Assert.Equal(System.Text.RegularExpressions.Regex.Match(text, "(?<!\r)\n").Index + 1, buffer.Slice(0, end).Length);
            Assert.Null(new RequestHeadReader(buffer.Slice(0, end).ToArray()).Read());
        }
    }

    [Fact]
    public void DamagedUpgradeRequestsAreRefusedWithAStatusOrAcceptedNeverAnException()
    {
        // A fixed seed: the same 20,000 damaged requests every time. Each goes the server's way: scan for the blank line
        // (in random segments), parse, check, then build what the handler would see.
        var random = new Random(20261130);
        var options = new WebSocketServerOptions { AllowOrigin = origin => origin == "http://good.example" };
        var endings = new HashSet<string>();
        for (var run = 0; run < 20_000; run++)
        {
            var bytes = Damage.Mutate(s_valid, random);
            try
            {
                var buffer = Segments.View(bytes, Enumerable.Range(0, 32).Select(_ => random.Next(1, 40)));
                var scan = RequestHeadReader.Scan(buffer, run % 8 == 0 ? 128 : 8192, out var end); // under the head's length: 431
                if (scan != HeadScan.Complete)
                {
                    endings.Add(scan.ToString());
                    continue;
                }
                var head = new RequestHeadReader(buffer.Slice(0, end).ToArray()).Read();
                if (head is null)
                {
                    endings.Add("400 malformed");
                    continue;
                }
                var rejection = UpgradeChecks.Check(head, options, out var path, out var query, out var subProtocol);
                if (rejection is { } refused)
                {
                    Assert.True(refused.Status is 400 or 403 or 404 or 405 or 426 or 505, $"run {run}: {refused.Status}");
                    endings.Add(refused.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    continue;
                }
                var request = new UpgradeRequest(path, query, head.Headers, subProtocol, null);
                _ = (request.Token, request.Origin, request.Query("x"), request.Header("Host"));
                endings.Add("accepted");
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"run {run} ({Encoding.ASCII.GetString(bytes)}): {e}");
            }
        }
        // Not vacuous: damage reached the scan, the parser, the checks, and some requests still passed.
        Assert.Superset(new HashSet<string> { "Incomplete", "TooLarge", "400 malformed", "400", "accepted" }, endings);
    }

    [Fact]
    public void AcceptKeyMatchesTheRfcExample()
    {
        Span<byte> accept = stackalloc byte[WebSocketAccept.Length];
        WebSocketAccept.Compute("dGhlIHNhbXBsZSBub25jZQ==", accept);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Encoding.ASCII.GetString(accept));
    }

    [Fact]
    public void AcceptKeyIsComputedWithoutAllocating()
    {
        const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
        var bytes = AllocationBudget.SteadyStateBytes(_ =>
        {
            Span<byte> accept = stackalloc byte[WebSocketAccept.Length];
            WebSocketAccept.Compute(Key, accept);
        });
        Assert.Equal(0, bytes);
    }

    [Theory]
    [InlineData("Upgrade", true)]
    [InlineData("keep-alive, Upgrade", true)]
    [InlineData("keep-alive,upgrade ", true)]
    [InlineData("keep-alive", false)]
    [InlineData("upgraded", false)]
    public void ConnectionIsReadAsATokenList(string value, bool upgrade)
    {
        Assert.Equal(upgrade, UpgradeChecks.ListContains(value, "upgrade"));
    }
}
