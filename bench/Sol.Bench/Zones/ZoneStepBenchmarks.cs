using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Sol.Core.Galaxy;
using Sol.Core.Mathematics;
using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Bench.Zones;

/// <summary>
/// One zone step at 1k..1M moving entities, three ways side by side: the struct-of-arrays <see cref="Zone"/> step,
/// the same systems over a <c>List</c> of objects (the baseline), and a plain stream copy of as many bytes as the
/// step touches (the memory-bandwidth bound). Divide the mean by <see cref="Entities"/> for ns/entity.
/// </summary>
/// <remarks>
/// Bytes the step touches per entity: the columns it reads (flags, class, thrust, turn, rotation, angular velocity,
/// velocity x/y, position x/y, hull, kind, owner, ref, input seq, slot and generation: 79 bytes) and the
/// <see cref="EntityState"/> it writes into the snapshot (80 bytes). The stream copy moves 80 bytes per entity from
/// one buffer to another: 80 read + 80 written, the same order of traffic.
/// </remarks>
[MemoryDiagnoser]
public class ZoneStepBenchmarks
{
    private const int BytesPerEntity = 80;
    private Zone _zone = null!;
    private ObjectZone _objects = null!;
    private byte[] _source = null!;
    private byte[] _destination = null!;
    private long _tick;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int Entities { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new ZoneOptions { NpcsPerSystem = 0, InitialShipCapacity = Entities };
        var world = new ZoneWorld(BenchGalaxy.Ring(1), options);
        _zone = world.GetZone(ZoneId.ForSystem(1));
        var cls = options.ShipClasses[0];
        var state = _zone.State;
        _objects = new ObjectZone(options.TickRate);
        var random = new DeterministicRandom(42);
        for (var i = 0; i < Entities; i++)
        {
            // A ring well outside the star, each ship with its own steady thrust and turn (they fly circles).
            var r = random.NextDouble(1_000, 6_000);
            var (sin, cos) = Math.SinCos(random.NextDouble(-Math.PI, Math.PI));
            var thrust = (float)random.NextDouble(0, 1);
            var turn = (float)random.NextDouble(-1, 1);
            var handle = state.Add(EntityKind.Ship, EntityFlags.Dynamic, i + 1, 0, r * cos, r * sin);
            state.TryGetIndex(handle, out var index);
            state.Hull[index] = cls.Hull;
            state.ThrustInput[index] = thrust;
            state.TurnInput[index] = turn;
            _objects.Ships.Add(new ObjectShip
            {
                Handle = handle,
                Kind = EntityKind.Ship,
                Flags = EntityFlags.Dynamic,
                ShipClass = 0,
                Owner = i + 1,
                Ref = 0,
                InputSeq = 0,
                X = r * cos,
                Y = r * sin,
                Hull = cls.Hull,
                ThrustInput = thrust,
                TurnInput = turn,
                Class = cls,
            });
        }
        _source = new byte[(long)Entities * BytesPerEntity];
        _destination = new byte[(long)Entities * BytesPerEntity];
        Random.Shared.NextBytes(_source);
        // First step sizes the snapshot buffers.
        _zone.Step(_tick++);
        _objects.Step();
    }

    [Benchmark(Baseline = true, Description = "object-per-entity step")]
    public void ObjectStep() => _objects.Step();

    [Benchmark(Description = "struct-of-arrays step")]
    public void SoaStep() => _zone.Step(_tick++);

    [Benchmark(Description = "stream copy (bandwidth bound)")]
    public void StreamCopy() => Unsafe.CopyBlockUnaligned(ref _destination[0], ref _source[0], (uint)_source.Length);
}
