using Google.FlatBuffers;
using Sol.Core.Mathematics;
using Sol.Core.Protocol;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Core.Tests;

public class ProtocolVerifierTests
{
    private readonly ProtocolVerifier _verifier = new();

    [Fact]
    public void EveryClientMessageKindVerifies()
    {
        foreach (var bytes in AllClientMessages())
        {
            Assert.True(_verifier.VerifyClientMessage(new ByteBuffer(bytes)));
        }
    }

    [Fact]
    public void AServerMessageWithNestedTablesVerifies()
    {
        var b = new FlatBufferBuilder(256);
        var planetName = b.CreateString("Vega II");
        var planet = PlanetInfo.CreatePlanetInfo(b, 7, planetName, 120, 3000, 400, 1.5);
        var planets = ZoneEnter.CreatePlanetsVector(b, [planet]);
        var gateName = b.CreateString("Ursa");
        var gates = ZoneEnter.CreateGatesVector(b, [GateInfo.CreateGateInfo(b, 3, 100, 200, 300, 9, gateName)]);
        ZoneEnter.StartStarsVector(b, 1);
        StarInfo.CreateStarInfo(b, 0, 0, 200, 600, 1e7f, 1);
        var stars = b.EndVector();
        var name = b.CreateString("Vega");
        var enter = ZoneEnter.CreateZoneEnter(b, Sol.Protocol.ZoneKind.System, 5, 5, name, 12.5, 42, stars, planets, gates, default, default);
        b.Finish(ServerMessage.CreateServerMessage(b, ServerPayload.ZoneEnter, enter.Value).Value);
        var bytes = b.SizedByteArray();
        Assert.True(_verifier.VerifyServerMessage(new ByteBuffer(bytes)));

        var read = ServerMessage.GetRootAsServerMessage(new ByteBuffer(bytes)).PayloadAsZoneEnter();
        Assert.Equal("Vega II", read.Planets(0)!.Value.Name);
        Assert.Equal(9u, read.Gates(0)!.Value.TargetSystemId);
    }

    [Fact]
    public void EveryTruncationOfAValidMessageIsRejectedOrStillReadsTheSame()
    {
        foreach (var bytes in AllClientMessages())
        {
            var rejected = 0;
            for (var length = 0; length < bytes.Length; length++)
            {
                // Cutting only trailing alignment padding leaves a valid buffer; anything that verifies must read whole.
                if (_verifier.VerifyClientMessage(new ByteBuffer(bytes[..length])))
                {
                    Assert.Equal(ReadAll(bytes), ReadAll(bytes[..length]));
                }
                else
                {
                    rejected++;
                }
            }
            Assert.True(rejected >= bytes.Length - 3, $"only {rejected} of {bytes.Length} truncations rejected");
        }
    }

    [Fact]
    public void RandomAndCorruptedBuffersNeverThrow()
    {
        var random = new DeterministicRandom(12345);
        var messages = AllClientMessages().ToArray();
        var accepted = 0;
        for (var i = 0; i < 20_000; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.NextInt(0, 64)];
                for (var j = 0; j < bytes.Length; j++)
                {
                    bytes[j] = (byte)random.NextUInt64();
                }
            }
            else
            {
                bytes = (byte[])messages[random.NextInt(0, messages.Length - 1)].Clone();
                bytes[random.NextInt(0, bytes.Length - 1)] = (byte)random.NextUInt64();
            }
            if (_verifier.VerifyClientMessage(new ByteBuffer(bytes)))
            {
                accepted++;
                // Whatever verifies must be readable without an exception.
                _ = ReadAll(bytes);
            }
        }
        Assert.True(accepted < 20_000);
    }

    [Fact]
    public void VerifyingAllocatesNothing()
    {
        var buffer = new ByteBuffer(AllClientMessages().First());
        Assert.Equal(0, AllocationBudget.SteadyStateBytes(_ => _verifier.VerifyClientMessage(buffer)));
        Assert.True(_verifier.VerifyClientMessage(buffer));
    }

    /// <summary>Every field of a client message, as text.</summary>
    private static string ReadAll(byte[] bytes)
    {
        var message = ClientMessage.GetRootAsClientMessage(new ByteBuffer(bytes));
        return message.PayloadType switch
        {
            ClientPayload.Input => $"input {message.PayloadAsInput().Seq} {message.PayloadAsInput().Thrust} {message.PayloadAsInput().Turn} {message.PayloadAsInput().Fire}",
            ClientPayload.Jump => $"jump {message.PayloadAsJump().Gate}",
            ClientPayload.Land => $"land {message.PayloadAsLand().Planet}",
            ClientPayload.Ping => $"ping {message.PayloadAsPing().ClientTime}",
            ClientPayload.SetRoute => $"route {string.Join(',', Enumerable.Range(0, message.PayloadAsSetRoute().SystemsLength).Select(i => message.PayloadAsSetRoute().Systems(i)))} {message.PayloadAsSetRoute().Destination}",
            ClientPayload.Reauth => $"reauth {message.PayloadAsReauth().Token}",
            var other => other.ToString(),
        };
    }

    private static IEnumerable<byte[]> AllClientMessages()
    {
        yield return Client(ClientPayload.Input, b => Input.CreateInput(b, 17, 1, -0.5f, true).Value);
        yield return Client(ClientPayload.Jump, b => Jump.CreateJump(b, 4).Value);
        yield return Client(ClientPayload.Land, b => Land.CreateLand(b, 9).Value);
        yield return Client(ClientPayload.TakeOff, b => { TakeOff.StartTakeOff(b); return TakeOff.EndTakeOff(b).Value; });
        yield return Client(ClientPayload.Colonize, b => { Colonize.StartColonize(b); return Colonize.EndColonize(b).Value; });
        yield return Client(ClientPayload.Ping, b => Ping.CreatePing(b, 1234.5).Value);
        yield return Client(ClientPayload.SetRoute, b => SetRoute.CreateSetRoute(b, SetRoute.CreateSystemsVector(b, [1, 2, 3]), 0).Value);
        yield return Client(ClientPayload.Reauth, b => Reauth.CreateReauth(b, b.CreateString("token")).Value);
    }

    private static byte[] Client(ClientPayload type, Func<FlatBufferBuilder, int> payload)
    {
        var b = new FlatBufferBuilder(64);
        var offset = payload(b);
        b.Finish(ClientMessage.CreateClientMessage(b, type, offset).Value);
        return b.SizedByteArray();
    }
}
