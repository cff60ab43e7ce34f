using Sol.Testing;
using Sol.Transport.Connections;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>The server's table of open connections: what a walk sees, slot reuse, growth, and no allocation per walk.</summary>
public sealed class SlotTableTests
{
    [Fact]
    public void AWalkSeesWhatIsInTheTableInSlotOrderAndFreedSlotsAreReused()
    {
        var table = new SlotTable<string>();
        var slots = Enumerable.Range(0, 40).Select(i => table.Add($"item {i}")).ToList(); // grows twice (16, 32, 64)
        Assert.Equal(Enumerable.Range(0, 40), slots);

        table.Remove(slots[3]);
        table.Remove(slots[17]);
        table.Remove(slots[39]);
        Assert.Equal(37, table.Count);
        Assert.Equal(Enumerable.Range(0, 40).Where(i => i is not (3 or 17 or 39)).Select(i => $"item {i}"), Walk(table));

        // The last slot freed is the first one handed out again; nothing new is appended while a slot is free.
        Assert.Equal(39, table.Add("again 39"));
        Assert.Equal(17, table.Add("again 17"));
        Assert.Equal(3, table.Add("again 3"));
        Assert.Equal(40, table.Add("item 40"));
        Assert.Equal(41, table.Count);
        Assert.Equal("again 3", Walk(table)[3]);
    }

    [Fact]
    public void AWalkAllocatesNothing()
    {
        var table = new SlotTable<object>();
        for (var i = 0; i < 100; i++)
        {
            table.Add(new object());
        }
        table.Remove(50);
        var seen = WalkCount(table); // JIT and first-call work before the count

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            seen += WalkCount(table);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(99 * 1_001, seen);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task WalksWhileOtherThreadsAddAndRemoveSeeOnlyLiveItemsAndTheEndStateIsExact()
    {
        var table = new SlotTable<object>();
        var stable = Enumerable.Range(0, 8).Select(_ => new object()).ToArray();
        foreach (var item in stable)
        {
            table.Add(item); // never removed: every walk must see all eight
        }
        using var done = new CancellationTokenSource();
        using var walking = new ManualResetEventSlim();
        var walker = Task.Factory.StartNew(() =>
        {
            var walks = 0;
            while (!done.IsCancellationRequested)
            {
                var found = 0;
                foreach (var item in table)
                {
                    Assert.NotNull(item);
                    found += Array.IndexOf(stable, item) >= 0 ? 1 : 0;
                }
                Assert.Equal(stable.Length, found);
                walks++;
                walking.Set();
            }
            return walks;
        }, TaskCreationOptions.LongRunning);
        var churn = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            Assert.True(walking.Wait(TimeSpan.FromSeconds(30)), "the walker never started");
            for (var round = 0; round < 2_000; round++)
            {
                var slots = Enumerable.Range(0, 20).Select(_ => table.Add(new object())).ToArray(); // the first rounds grow it
                foreach (var slot in slots)
                {
                    table.Remove(slot);
                }
            }
        })).ToArray();
        await Task.WhenAll(churn).WaitAsync(TimeSpan.FromSeconds(60));
        await done.CancelAsync();
        Assert.True(await walker.WaitAsync(TimeSpan.FromSeconds(10)) > 0);

        Assert.Equal(stable.Length, table.Count);
        Assert.Equal(stable, Walk(table));
    }

    [Fact]
    public async Task TheServerTimerTickAllocatesNothingWithConnectionsOpen()
    {
        var handler = new RecordingHandler();
        // An idle timeout far beyond the test, so no tick queues a ping however slow the machine.
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { IdleTimeout = TimeSpan.FromHours(1) }, handler);
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = await RawClient.ConnectAsync(server.Endpoint);
                clients.Add(client);
                await client.WriteAsync(RawClient.Upgrade());
                Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
            }
            await Eventually.TrueAsync(() => server.Connections == 3, TimeSpan.FromSeconds(10), "three open");
            server.OnTimer();

            // What is left is the walk over the connections.
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1_000; i++)
            {
                server.OnTimer();
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static List<T> Walk<T>(SlotTable<T> table)
        where T : class
    {
        var items = new List<T>();
        foreach (var item in table)
        {
            items.Add(item);
        }
        return items;
    }

    private static int WalkCount(SlotTable<object> table)
    {
        var count = 0;
        foreach (var item in table)
        {
            count += item is null ? 0 : 1;
        }
        return count;
    }
}
