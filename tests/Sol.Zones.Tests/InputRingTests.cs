using Sol.Zones.Input;

namespace Sol.Zones.Tests;

public class InputRingTests
{
    [Fact]
    public void InputsComeOutInTheOrderTheyWentIn()
    {
        var ring = new InputRing(16);
        for (uint i = 1; i <= 10; i++)
        {
            ring.TryEnqueue(InputCommand.Steer(7, i, 1, 0));
        }
        for (uint i = 1; i <= 10; i++)
        {
            Assert.True(ring.TryDequeue(out var input));
            Assert.Equal(i, input.Seq);
        }
        Assert.False(ring.TryDequeue(out _));
    }

    [Fact]
    public void AFullInboxDropsTheOldestAndCountsIt()
    {
        var ring = new InputRing(8);
        for (uint i = 1; i <= 12; i++)
        {
            var dropped = ring.TryEnqueue(InputCommand.Steer(7, i, 1, 0));
            Assert.Equal(i > 8, dropped);
        }
        Assert.Equal(4, ring.Dropped);
        Assert.Equal(8, ring.Count);
        for (uint i = 5; i <= 12; i++)
        {
            Assert.True(ring.TryDequeue(out var input));
            Assert.Equal(i, input.Seq);
        }
        Assert.False(ring.TryDequeue(out _));
    }

    [Fact]
    public void AFullInboxKeepsARequestAndDropsSteeringInputsInstead()
    {
        var ring = new InputRing(8);
        ring.TryEnqueue(InputCommand.Jump(3, 1, 42)); // the oldest: before, the first to go
        for (uint i = 1; i <= 20; i++)
        {
            ring.TryEnqueue(InputCommand.Steer(7, i, 1, 0));
        }
        Assert.Equal(13, ring.Dropped);
        Assert.Equal(0, ring.RequestsDropped);
        var kept = new List<InputCommand>();
        while (ring.TryDequeue(out var input))
        {
            kept.Add(input);
        }
        Assert.Equal(8, kept.Count);
        Assert.Single(kept, k => k is { Action: ShipAction.Jump, Owner: 3, Target: 42 });
        Assert.Equal([14u, 15, 16, 17, 18, 19, 20], kept.Where(k => k.Action == ShipAction.None).Select(k => k.Seq));
    }

    [Fact]
    public void AnInboxFullOfRequestsStillMakesRoomAndCountsTheRequestDropped()
    {
        var ring = new InputRing(4);
        for (uint i = 1; i <= 4; i++)
        {
            ring.TryEnqueue(InputCommand.Land(i, i, 5));
        }
        Assert.True(ring.TryEnqueue(InputCommand.TakeOff(9, 1))); // returns: no endless moving of requests
        Assert.Equal(1, ring.Dropped);
        Assert.Equal(1, ring.RequestsDropped);
        Assert.Equal(4, ring.Count);
    }

    [Fact]
    public void CapacityIsRoundedUpToAPowerOfTwo()
    {
        Assert.Equal(8, new InputRing(5).Capacity);
        Assert.Equal(2, new InputRing(1).Capacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InputRing(0));
    }

    [Fact]
    public async Task ConcurrentProducersLoseNothingThatIsNotCountedAsDropped()
    {
        var ring = new InputRing(64);
        const int Producers = 4;
        const int PerProducer = 50_000;
        var drained = 0L;
        var seen = new int[Producers];
        var inOrder = true;
        using var go = new Barrier(Producers + 1);
        var producing = Producers;
        var tasks = new Task[Producers];
        for (var p = 0; p < Producers; p++)
        {
            var producer = p;
            tasks[p] = Task.Factory.StartNew(() =>
            {
                go.SignalAndWait();
                for (uint i = 1; i <= PerProducer; i++)
                {
                    ring.TryEnqueue(InputCommand.Steer(producer, i, 0, 0));
                }
                Interlocked.Decrement(ref producing);
            }, TaskCreationOptions.LongRunning);
        }
        var consumer = Task.Factory.StartNew(() =>
        {
            go.SignalAndWait();
            while (Volatile.Read(ref producing) > 0 || ring.Count > 0)
            {
                while (ring.TryDequeue(out var input))
                {
                    drained++;
                    // Per producer, sequence numbers only go up (drops skip some, nothing is reordered).
                    if (input.Seq <= seen[input.Owner])
                    {
                        inOrder = false;
                    }
                    seen[input.Owner] = (int)input.Seq;
                }
            }
            while (ring.TryDequeue(out _))
            {
                drained++;
            }
        }, TaskCreationOptions.LongRunning);
        await Task.WhenAll(tasks);
        await consumer;

        Assert.True(inOrder);
        Assert.Equal((long)Producers * PerProducer, drained + ring.Dropped);
    }

    [Fact]
    public void AnInboxTakesItsCellsOnlyWhenTheFirstInputArrives()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ring = new InputRing(1024);
        var empty = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(ring.TryDequeue(out _));
        Assert.Equal(0, ring.Count);
        ring.TryEnqueue(InputCommand.Steer(1, 1, 0, 0));
        var used = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(empty < 512, $"an unused inbox took {empty} bytes");
        Assert.True(used > 1024 * 32, $"the first input should have allocated the cells ({used} bytes)");
        Assert.True(ring.TryDequeue(out var input));
        Assert.Equal(1u, input.Seq);
    }
}
