using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Progress;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class PlayerWriteBehindTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private ISolStore _store = null!;
    private Guid _galaxyId;

    public async Task InitializeAsync()
    {
        _store = await SolStore.OpenAsync(_directory.File("sol.db"));
        _galaxyId = (await _store.SaveGalaxyAsync(GalaxyGenerator.Generate("main", GalaxyParameters.Default(10, 1)), replace: false)).Id;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task StagedStatesAreCoalescedAndWrittenOnFlush()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger());
        var player = Player(1);
        for (var v = 1; v <= 50; v++)
        {
            writer.Stage(player with { Version = v, X = v });
        }
        writer.Stage(player with { Version = 7, X = -1 }); // an older state staged late never wins
        Assert.Equal(1, writer.Pending);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, writer.Written);
        var stored = await _store.LoadPlayerAsync(player.AccountId, _galaxyId);
        Assert.Equal((50L, 50.0), (stored!.Version, stored.X));
    }

    [Fact]
    public async Task TheIntervalFlushesWithoutBeingAsked()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMilliseconds(50), new ListLogger());
        var player = Player(2);
        writer.Stage(player);
        await Eventually.TrueAsync(() => writer.Written == 1, TimeSpan.FromSeconds(10), "the interval flush");
        Assert.NotNull(await _store.LoadPlayerAsync(player.AccountId, _galaxyId));
    }

    [Fact]
    public async Task ADatabaseOutageLosesNothingWarnsOnceAndStaysBounded()
    {
        var flaky = new FlakyStore(_store) { Down = true };
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMilliseconds(40), log);
        var players = Enumerable.Range(0, 20).Select(Player).ToList();
        Task? waiting = null;
        for (var round = 1; round <= 30; round++)
        {
            foreach (var p in players)
            {
                writer.Stage(p with { Version = round, X = round });
            }
            // Asked once there is something to write: asked before, a pass with nothing staged may complete it.
            waiting ??= writer.FlushAsync();
            if (round == 5)
            {
                await Eventually.TrueAsync(() => writer.Failures >= 3, TimeSpan.FromSeconds(10), "several failed flushes");
            }
        }
        Assert.True(writer.InOutage);
        Assert.Equal(20, writer.Pending); // latest per player, whatever the number of rounds
        Assert.False(waiting!.IsCompleted);
        Assert.Single(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));

        flaky.Down = false;
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(writer.InOutage);
        Assert.Contains(log.Warnings, w => w.Contains("Database back", StringComparison.Ordinal));
        foreach (var p in players)
        {
            var stored = await _store.LoadPlayerAsync(p.AccountId, _galaxyId);
            Assert.Equal((30L, 30.0), (stored!.Version, stored.X));
        }
    }

    [Fact]
    public async Task AFlushWritesInChunksAndEachPlayerOnce()
    {
        var recording = new RecordingStore(_store);
        await using var writer = new PlayerWriteBehind(recording, TimeSpan.FromMinutes(10), new ListLogger(), chunkPlayers: 500);
        var players = Enumerable.Range(0, 1200).Select(Player).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([500, 500, 200], recording.Saved.Select(s => s.Count));
        Assert.Equal(1200, recording.Saved.SelectMany(s => s.Ids).Distinct().Count());
        Assert.Equal((1200L, 3L), (writer.Written, writer.ChunksWritten));
        Assert.NotNull(await _store.LoadPlayerAsync(players[^1].AccountId, _galaxyId));
    }

    [Fact]
    public async Task AFailedChunkPutsBackOnlyWhatWasNotWritten()
    {
        var recording = new RecordingStore(_store) { FailCall = 2 };
        await using var writer = new PlayerWriteBehind(recording, TimeSpan.FromMilliseconds(50), new ListLogger(), chunkPlayers: 500);
        var players = Enumerable.Range(0, 1200).Select(Player).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)); // completes with the retry that succeeds
        Assert.Equal(1, writer.Failures);
        Assert.Equal(1200, writer.Written);
        // The first chunk was not written again: every player reached the database exactly once.
        var ids = recording.Saved.SelectMany(s => s.Ids).ToList();
        Assert.Equal(1200, ids.Count);
        Assert.Equal(1200, ids.Distinct().Count());
        foreach (var p in players)
        {
            Assert.NotNull(await _store.LoadPlayerAsync(p.AccountId, _galaxyId));
        }
    }

    [Fact]
    public async Task PacedChunksEachStartAfterTheirOwnTick()
    {
        var saved = await PacedFlushAsync(players: 6, chunkPlayers: 2, interval: TimeSpan.FromMinutes(10));
        var ticks = saved.Select(s => s.TicksSeen).ToList();
        Assert.Equal(3, ticks.Count);
        Assert.True(ticks[0] >= 2 && ticks[1] > ticks[0] && ticks[2] > ticks[1], $"chunks started at ticks {string.Join(", ", ticks)}");
    }

    [Fact]
    public async Task PacedChunksGrowWhenOneATickWouldTakeMoreThanHalfTheInterval()
    {
        // One tick a second and an interval of 4 s: at most 2 paced chunks, so 6 players go as 3 + 3, not 2 + 2 + 2.
        var saved = await PacedFlushAsync(players: 6, chunkPlayers: 2, interval: TimeSpan.FromSeconds(4));
        Assert.Equal([3, 3], saved.Select(s => s.Count));
    }

    /// <summary>Stages <paramref name="players"/> and flushes them with a pacer the test ticks (one manual second a tick, every 20 ms).</summary>
    private async Task<IReadOnlyList<(int Count, Guid[] Ids, long TicksSeen)>> PacedFlushAsync(int players, int chunkPlayers, TimeSpan interval)
    {
        var time = new ManualTime();
        var pacer = new TickPacer(tickRate: 1, time); // ticks one (manual) second apart: a clock running at its rate
        var recording = new RecordingStore(_store) { Pacer = pacer };
        await using var writer = new PlayerWriteBehind(recording, interval, new ListLogger(), pacer, chunkPlayers);
        writer.OnTickCompleted();
        Enumerable.Range(0, players).Select(Player).ToList().ForEach(writer.Stage);
        var flushed = writer.FlushAsync();
        // The test is the clock: a tick every 20 ms of real time until the flush is done.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!flushed.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            writer.OnTickCompleted();
            await Task.WhenAny(flushed, Task.Delay(20));
        }
        await flushed;
        return recording.Saved;
    }

    [Fact]
    public async Task APacerWithoutARunningClockDoesNotHoldTheFlush()
    {
        var pacer = new TickPacer(tickRate: 1000);
        Assert.True(pacer.WaitAsync().IsCompleted); // never ticked
        pacer.OnTickCompleted();
        await Eventually.TrueAsync(() => pacer.WaitAsync().IsCompleted, TimeSpan.FromSeconds(10), "a clock that stopped ticking is not waited for");

        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger(), pacer, chunkPlayers: 1);
        var players = Enumerable.Range(0, 3).Select(Player).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, writer.Written);
    }

    [Fact]
    public async Task ThePacerWaitsForTheNextTickOnlyWhenTheClockRunsAtItsRate()
    {
        var time = new ManualTime();
        var pacer = new TickPacer(tickRate: 1, time); // a period of one (manual) second; at most two real seconds of waiting
        pacer.OnTickCompleted();
        time.Advance(TimeSpan.FromSeconds(1));
        pacer.OnTickCompleted();
        time.Advance(TimeSpan.FromSeconds(0.2));
        var waiting = pacer.WaitAsync();
        Assert.False(waiting!.IsCompleted); // at the rate: wait for the end of the next tick
        time.Advance(TimeSpan.FromSeconds(0.8));
        var released = Stopwatch.StartNew();
        pacer.OnTickCompleted();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(1.5), $"released by the tick, not by the 2 s limit ({released.Elapsed.TotalMilliseconds:F0} ms)");

        time.Advance(TimeSpan.FromSeconds(0.01)); // ticks stepped back to back: no quiet part to wait for
        pacer.OnTickCompleted();
        Assert.True(pacer.WaitAsync().IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        pacer.OnTickCompleted();
        time.Advance(TimeSpan.FromSeconds(2.01)); // no tick for two periods: the clock stopped
        Assert.True(pacer.WaitAsync().IsCompleted);
    }

    [Fact]
    public async Task DisposingWhilePacedStillWritesEverything()
    {
        var time = new ManualTime();
        var pacer = new TickPacer(tickRate: 1, time);
        var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger(), pacer, chunkPlayers: 1);
        writer.OnTickCompleted(); // the clock "runs" (manual time stands still) and no further tick comes: chunks would wait up to 2 s each
        var players = Enumerable.Range(0, 5).Select(Player).ToList();
        players.ForEach(writer.Stage);
        _ = writer.FlushAsync();
        await writer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, writer.Written);
        foreach (var p in players)
        {
            Assert.NotNull(await _store.LoadPlayerAsync(p.AccountId, _galaxyId));
        }
    }

    [Fact]
    public async Task AnUnexpectedFailureIsRetriedLikeAnOutageAndTheWriterGoesOn()
    {
        var broken = new FlakyStore(_store) { FailWith = new InvalidOperationException("a bug in a store (test)") };
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(broken, TimeSpan.FromMilliseconds(50), log);
        var first = Player(1);
        writer.Stage(first);
        var flushed = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 1, TimeSpan.FromSeconds(10), "the failed write");
        broken.FailWith = null;

        // Before, the exception ended the write-behind's loop: the batch was gone and this waited forever.
        await flushed.WaitAsync(TimeSpan.FromSeconds(10));
        var second = Player(2);
        writer.Stage(second);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(await _store.LoadPlayerAsync(first.AccountId, _galaxyId));
        Assert.NotNull(await _store.LoadPlayerAsync(second.AccountId, _galaxyId));
        Assert.Contains(log.Warnings, w => w.Contains("InvalidOperationException: a bug in a store (test)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FlushesAskedForDuringAnOutageWaitForTheBackoff()
    {
        var flaky = new FlakyStore(_store) { Down = true };
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromSeconds(2), new ListLogger());
        writer.Stage(Player(1));
        var waiting = new List<Task>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            waiting.Add(writer.FlushAsync()); // as the hub does on every jump, landing, take-off and leave
            await Task.Delay(5);
        }
        var calls = flaky.Calls;
        var elapsed = clock.Elapsed + TimeSpan.FromMilliseconds(50); // Task.Delay may end a few ms early by this clock

        // The first attempt, then one after each backoff (100 ms, doubling, capped at the 2 s interval): at most this
        // many by now, however slow the machine (about 5 in the first second). Before, each of the ~200 asks above was
        // one more attempt against the database that is down.
        var allowed = 1;
        for (TimeSpan at = TimeSpan.Zero, backoff = TimeSpan.FromMilliseconds(100); (at += backoff) <= elapsed; backoff = backoff * 2 > TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : backoff * 2)
        {
            allowed++;
        }
        Assert.InRange(calls, 0, allowed);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        Assert.InRange(waiting.Distinct().Count(), 1, allowed + 1); // asks before a flush starts share one task
        flaky.Down = false;
        await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AStateThatIsNotANumberIsNotStagedAndHoldsBackNobody()
    {
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), log);
        var players = Enumerable.Range(0, 3).Select(Player).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // A simulation bug puts NaN into one ship. SQLite refuses to store NaN (the whole chunk failed, every flush,
        // for everybody); that state is kept out, and the last good one stays.
        writer.Stage(players[1] with { Version = 2, Vx = double.PositiveInfinity });
        writer.Stage(players[1] with { Version = 3, X = double.NaN, Y = 5 });
        writer.Stage(players[0] with { Version = 2, X = 20 });
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(20, (await _store.LoadPlayerAsync(players[0].AccountId, _galaxyId))!.X);
        var kept = (await _store.LoadPlayerAsync(players[1].AccountId, _galaxyId))!;
        Assert.Equal((1L, players[1].X), (kept.Version, kept.X));
        Assert.Equal(0, writer.Failures);
        Assert.Single(log.Warnings, w => w.Contains($"Player {players[1].Id}'s state is not finite", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APlayerLoadedFromAnOlderRowGetsTheStateStillHeldHere()
    {
        var flaky = new FlakyStore(_store) { Down = true };
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMinutes(10), new ListLogger());
        var row = Player(1); // version 1, as the database has it
        await _store.SavePlayersAsync([row]);

        // Its last state could not be written (the database was down when it left) and is still staged.
        writer.Stage(row with { Version = 5, X = 500 });
        _ = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 1, TimeSpan.FromSeconds(10), "the failed write");
        var mark = writer.ReadMark(); // the player comes back: its row is read now
        Assert.Equal((5L, 500.0), (writer.Newest(row, mark)!.Version, writer.Newest(row, mark)!.X));
        var other = Player(2);
        Assert.Same(other, writer.Newest(other, mark)); // another player: the row as read
        var newer = row with { Version = 9 };
        Assert.Same(newer, writer.Newest(newer, mark)); // a row newer than anything here wins

        // Written now; a row read just before that write committed is still answered with the written state.
        flaky.Down = false;
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(5, writer.Newest(row, mark)!.Version);
        Assert.Equal(5, (await _store.LoadPlayerAsync(row.AccountId, _galaxyId))!.Version);
    }

    [Fact]
    public async Task NewestFindsAStagedStateAtEveryMomentOfAFlushStarting()
    {
        // helper-32's race: the batch was out of the staged ones and not yet marked in flight for the time it took to
        // copy it. Many players make that copy long; a reader asks all along, on its own thread.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await using var writer = new PlayerWriteBehind(new NullStore(_store), TimeSpan.FromMinutes(10), new ListLogger());
            var players = Enumerable.Range(0, 20_000).Select(Player).ToList();
            var row = players[^1];
            players.ForEach(p => writer.Stage(p with { Version = 2 }));
            using var reading = new ManualResetEventSlim();
            using var stop = new CancellationTokenSource();
            var reader = Task.Factory.StartNew(() =>
            {
                var misses = 0;
                reading.Set();
                while (!stop.IsCancellationRequested)
                {
                    misses += writer.Newest(row, writer.ReadMark())!.Version == 2 ? 0 : 1;
                }
                return misses;
            }, TaskCreationOptions.LongRunning);
            Assert.True(reading.Wait(TimeSpan.FromSeconds(10)));
            await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)); // the first flush: nothing written before it
            await stop.CancelAsync();
            Assert.Equal(0, await reader.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task ARowReadBeforeTwoBatchesFinishedIsToBeReadAgainAndOneReadBeforeOneIsAnswered()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger());
        var row = Player(1);
        var before = writer.ReadMark(); // a slow read of row begins

        writer.Stage(row with { Version = 3, X = 30 });
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var between = writer.ReadMark();
        Assert.Equal(3, writer.Newest(row, before)!.Version); // one batch since: still held as the last written

        writer.Stage(Player(2) with { Version = 2 });
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(writer.Newest(row, before)); // two since: the first is no longer held, the row may be older than it
        Assert.Same(row, writer.Newest(row, between)); // read after the first had committed: the row is the database's
        Assert.Equal(3, (await _store.LoadPlayerAsync(row.AccountId, _galaxyId))!.Version);
    }

    [Fact]
    public async Task APlayerLoadedWhileItsStateIsBeingWrittenGetsThatState()
    {
        var held = new HeldStore(_store);
        await using var writer = new PlayerWriteBehind(held, TimeSpan.FromMinutes(10), new ListLogger());
        var row = Player(1);
        var mark = writer.ReadMark();
        writer.Stage(row with { Version = 3, X = 30 });
        var flushed = writer.FlushAsync();
        await held.Entered.WaitAsync(TimeSpan.FromSeconds(10)); // taken out of the staged ones, not yet in the database

        Assert.Equal((3L, 30.0), (writer.Newest(row, mark)!.Version, writer.Newest(row, mark)!.X));
        held.Release();
        await flushed.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ALoggerThatThrowsDoesNotEndTheWriter()
    {
        var flaky = new FlakyStore(_store) { Down = true };
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMilliseconds(50), new ThrowingLogger());
        var player = Player(1);
        writer.Stage(player);
        var flushed = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 1, TimeSpan.FromSeconds(10), "a failed write (and its warning thrown by the logger)");
        flaky.Down = false;

        await flushed.WaitAsync(TimeSpan.FromSeconds(10)); // the "database back" line throws too
        Assert.NotNull(await _store.LoadPlayerAsync(player.AccountId, _galaxyId));
    }

    [Fact]
    public async Task AFlushStillWaitingWhenTheWriterStopsEndsAndALaterOneIsRefused()
    {
        var flaky = new FlakyStore(_store) { Down = true };
        var log = new ListLogger();
        var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMilliseconds(50), log);
        writer.Stage(Player(1));
        var waiting = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 1, TimeSpan.FromSeconds(10), "a failed write");

        await writer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // its last attempt fails too
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Throws<ObjectDisposedException>(() => { _ = writer.FlushAsync(); }); // thrown by the call itself
        Assert.Contains(log.Warnings, w => w.Contains("Shutting down with 1 player states unwritten", StringComparison.Ordinal));
        await writer.DisposeAsync(); // twice is fine
    }

    [Fact]
    public async Task AFlushWaitsForAWriteThatStartedAfterItWasAskedFor()
    {
        var held = new HeldStore(_store);
        await using var writer = new PlayerWriteBehind(held, TimeSpan.FromMinutes(10), new ListLogger());
        var early = Player(1);
        writer.Stage(early);
        var first = writer.FlushAsync();
        await held.Entered.WaitAsync(TimeSpan.FromSeconds(10)); // the first write is under way, holding the early player

        var late = Player(2);
        writer.Stage(late);
        var second = writer.FlushAsync();
        held.Release();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        await second.WaitAsync(TimeSpan.FromSeconds(10));

        // The second flush completed only with a write that held the late player, not with the first one.
        Assert.NotNull(await _store.LoadPlayerAsync(late.AccountId, _galaxyId));
        Assert.Equal(2, held.Calls);
    }

    [Fact]
    public async Task APlayerTheDatabaseRefusesIsKeptApartAndHoldsBackNobody()
    {
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), log);
        var players = Enumerable.Range(0, 100).Select(Player).ToList();
        var refused = Refusable(players[37]);
        players[37] = refused;
        players.ForEach(writer.Stage);

        // Before, the chunk was refused at every flush and nobody's progress was written again.
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((99L, 1, 0, false), (writer.Written, writer.Refused, writer.Pending, writer.InOutage));
        Assert.True(writer.IsRefused(refused.Id));
        foreach (var p in players)
        {
            Assert.Equal(p != refused, await _store.LoadPlayerAsync(p.AccountId, _galaxyId) is not null);
        }
        Assert.Single(log.Warnings, w => w.Contains(refused.Id.ToString(), StringComparison.Ordinal) && w.Contains("refused by the database", StringComparison.Ordinal));
        Assert.Same(refused, writer.Newest(refused with { Version = 0 }, writer.ReadMark())); // never dropped: a player who comes back goes on from it

        // A newer state replaces the refused one; the next flush tries it on its own, and it goes in.
        var mended = refused with { Version = 2, X = 42, Inventory = [new InventoryItem("ore", 3)] };
        writer.Stage(mended);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((0, false), (writer.Refused, writer.IsRefused(refused.Id)));
        var stored = await _store.LoadPlayerAsync(refused.AccountId, _galaxyId);
        Assert.Equal((2L, 42.0, 3L), (stored!.Version, stored.X, stored.Inventory.Single().Quantity));
        Assert.Contains(log.Warnings, w => w.Contains(refused.Id.ToString(), StringComparison.Ordinal) && w.Contains("is written now", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedPlayersAreFoundWhereverTheySitAndTheRestIsWrittenOnce()
    {
        var recording = new RecordingStore(_store);
        await using var writer = new PlayerWriteBehind(recording, TimeSpan.FromMinutes(10), new ListLogger(), chunkPlayers: 50);
        var players = Enumerable.Range(0, 120).Select(Player).ToList();
        int[] at = [0, 1, 2, 3, 49, 77, 119]; // the front of a chunk, its last place, the middle of one, the very last
        foreach (var i in at)
        {
            players[i] = Refusable(players[i]);
        }
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(at.Length, writer.Refused);
        Assert.All(at, i => Assert.True(writer.IsRefused(players[i].Id)));
        var written = recording.Saved.SelectMany(s => s.Ids).ToList();
        Assert.Equal(players.Count - at.Length, written.Count); // each of the others exactly once, in one flush
        Assert.Equal(written.Count, written.Distinct().Count());
        Assert.DoesNotContain(written, id => at.Any(i => players[i].Id == id));
        Assert.True(recording.Saved.Count <= 3 * PlayerWriteBehind.MaxIsolationWrites);
    }

    [Fact]
    public async Task ManyRefusedPlayersAreFoundOverSeveralFlushesAndNoneIsLost()
    {
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMilliseconds(50), log, chunkPlayers: 200);
        var players = Enumerable.Range(0, 200).Select(i => i % 5 == 0 ? Refusable(Player(i)) : Player(i)).ToList();
        players.ForEach(writer.Stage);

        // 40 refused in one chunk of 200 take more writes than one flush spends finding them: what is left goes with the
        // next flush, and the flush asked for completes only when every state is written or set apart.
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((40, 0), (writer.Refused, writer.Pending));
        Assert.Equal((160L, 0L, false), (writer.Written, writer.Failures, writer.InOutage)); // each written once, and no outage
        Assert.DoesNotContain(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));
        for (var i = 0; i < players.Count; i++)
        {
            Assert.Equal(i % 5 != 0, await _store.LoadPlayerAsync(players[i].AccountId, _galaxyId) is not null);
        }
    }

    [Fact]
    public async Task AFirstChunkOfRefusedPlayersHoldsBackNobodyBehindIt()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger(), chunkPlayers: 4);
        var players = Enumerable.Range(0, 20).Select(i => i < 4 ? Refusable(Player(i)) : Player(i)).ToList();
        players.ForEach(writer.Stage);

        // Every write of the first chunk is refused; whether that is the rows' fault is decided over the whole flush.
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((16L, 4, 0, false), (writer.Written, writer.Refused, writer.Pending, writer.InOutage));
    }

    [Fact]
    public async Task ARefusalAloneInItsFlushIsSetApartOnceTheDatabaseHasTakenWrites()
    {
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), log);
        writer.Stage(Player(0));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // A leave or a jump flushes one player: its refusal is the row's, since the database takes rows.
        var alone = Refusable(Player(1));
        writer.Stage(alone);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((true, 0L, false), (writer.IsRefused(alone.Id), writer.Failures, writer.InOutage));
        Assert.DoesNotContain(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMendedStateIsTriedAtTheNextFlushHoweverManyAreRefused()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger());
        writer.Stage(Player(-1));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10)); // the database takes this server's writes
        var players = Enumerable.Range(0, 150).Select(i => i < 120 ? Refusable(Player(i)) : Player(i)).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20)); // completes once every one is written or set apart
        Assert.Equal(120, writer.Refused);

        // Three of them mend: each is tried on its own at the next flush, whatever its place among the 120 kept
        // (before, the kept ones were taken apart in one order with a budget, and those behind about 33 never were).
        var mended = new[] { players[0], players[60], players[119] }.Select(p => p with { Version = 2, Inventory = [] }).ToList();
        mended.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(117, writer.Refused);
        foreach (var p in mended)
        {
            Assert.False(writer.IsRefused(p.Id));
            Assert.Equal(2L, (await _store.LoadPlayerAsync(p.AccountId, _galaxyId))!.Version);
        }
    }

    [Fact]
    public async Task WhatIsLeftOfAFlushGoesOnAsItsContinuationNotAsAnOutage()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger(), chunkPlayers: 100);

        // Three chunks of refused players and one of good ones: the first flush writes the good chunk and runs out of
        // writes taking the others apart; what is left is all refused, and the next flushes must go on finding them
        // (before: nothing went in there, so it was taken for an outage, retried at every backoff, and the flush asked
        // for never completed).
        var players = Enumerable.Range(0, 400).Select(i => i < 300 ? Refusable(Player(i)) : Player(i)).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((300, 0, 0L, false), (writer.Refused, writer.Pending, writer.Failures, writer.InOutage));
        Assert.NotNull(await _store.LoadPlayerAsync(players[399].AccountId, _galaxyId));
    }

    [Fact]
    public async Task ADatabaseThatStartsRefusingEverythingWhileAFlushGoesOnIsAnOutageNotEverybodySetApart()
    {
        // 300 refused in three chunks of 100 and a good chunk: the first flush runs out of writes finding the refused,
        // and from its 100th write on the database refuses everything (a schema change under the running server).
        var refusing = new RefusingStore(_store) { RefuseAllFromCall = 100 };
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMilliseconds(100), log, chunkPlayers: 100);
        StageRefused(refusing, writer, refused: 300, good: 100);
        var waiting = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.InOutage, TimeSpan.FromSeconds(10), "an outage");

        // Players staged now are not set apart while it lasts (before: the leftover's continuation went on without
        // asking, and a thousand good players were set apart in 22 ms, with no outage reported).
        var good = Enumerable.Range(400, 1_000).Select(Player).ToList();
        good.ForEach(writer.Stage);
        var failures = writer.Failures;
        await Eventually.TrueAsync(() => writer.Failures >= failures + 2, TimeSpan.FromSeconds(10), "two more failed flushes");
        Assert.True(writer.InOutage);
        Assert.All(good, p => Assert.False(writer.IsRefused(p.Id)));
        Assert.Contains(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));

        refusing.RefuseAll = false;
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((300, 0, false), (writer.Refused, writer.Pending, writer.InOutage));
        Assert.NotNull(await _store.LoadPlayerAsync(good[^1].AccountId, _galaxyId));
    }

    [Theory]
    [InlineData("player_explored (player_id TEXT NOT NULL, system_id BIGINT NOT NULL, explored_at BIGINT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (player_id, system_id))")]
    [InlineData("player_route (player_id TEXT NOT NULL, position BIGINT NOT NULL, system_id BIGINT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (player_id, position))")]
    [InlineData("player_inventory (player_id TEXT NOT NULL, item TEXT NOT NULL, quantity BIGINT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (player_id, item))")]
    public async Task AChildTableEveryWriteBreaksIsAnOutageNotEverybodySetApart(string table)
    {
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMilliseconds(100), log);
        writer.Stage(Player(-1)); // the probe: a state with no explored system, route or hold
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // A newer schema under the running server: a child table needs a column this server does not write. Every real
        // write is refused, while a rewrite of a stored row that does not touch that table would still pass (before: a
        // no-op rewrite touched no child table; then the probe's state, with none of these rows, touched none either).
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_directory.File("sol.db")}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"DROP TABLE {table[..table.IndexOf(' ', StringComparison.Ordinal)]}; CREATE TABLE {table}";
            await command.ExecuteNonQueryAsync();
        }
        var players = Enumerable.Range(0, 200).Select(i => Player(i) with { Explored = [1], Route = [2], Inventory = [new InventoryItem("ore", 1)] }).ToList();
        players.ForEach(writer.Stage);
        var waiting = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 2, TimeSpan.FromSeconds(10), "two failed flushes");

        // Before (the probe was a no-op rewrite): 200 players set apart, no outage, the flush reported done.
        Assert.Equal((0, 200, true), (writer.Refused, writer.Pending, writer.InOutage));
        Assert.False(waiting.IsCompleted);
        Assert.Single(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALoneRefusalRightAfterStartIsTheRowsWhenAJoinLoadedARow()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMilliseconds(100), new ListLogger());
        var stored = Player(0);
        await _store.SavePlayersAsync([stored]);
        writer.Newest((await _store.LoadPlayerAsync(stored.AccountId, _galaxyId))!, writer.ReadMark()); // a join: a row the database holds

        // Nothing written by this process yet, and one player alone whose state is refused (a leave): the loaded row is
        // the probe, so the refusal is the row's (before: an outage until something else went in).
        var refused = Refusable(Player(1));
        writer.Stage(refused);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((true, 0L, false), (writer.IsRefused(refused.Id), writer.Failures, writer.InOutage));
    }

    [Fact]
    public async Task AnOutageWhileAFlushGoesOnDoesNotTurnItsRefusedLeftoverIntoAnEndlessOutage()
    {
        // As above, but the database is unreachable once, at the continuation's first write; what is left then is all
        // refused and alone in its flushes (before: taken for an outage at every retry, for ever on a quiet server).
        var refusing = new RefusingStore(_store);
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMilliseconds(100), new ListLogger(), chunkPlayers: 100);
        StageRefused(refusing, writer, refused: 300, good: 100);
        refusing.UnreachableAtCall = 4 + (3 * PlayerWriteBehind.MaxIsolationWrites) + 1; // the continuation's first write
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((300, 0, false), (writer.Refused, writer.Pending, writer.InOutage));
        Assert.True(writer.Failures >= 1, "the unreachable call was not hit");
    }

    [Fact]
    public async Task KeptStatesThatGoInTogetherAreLoggedInAFewLines()
    {
        var refusing = new RefusingStore(_store);
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMilliseconds(50), log);
        var kept = StageRefused(refusing, writer, refused: 300, good: 20);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(300, writer.Refused);

        // The cause goes away: all 300 go in together at the next full try, in eleven lines (before: one each). All at
        // once: one by one, a flush of the 50 ms timer could meet some accepted and the others not.
        refusing.AcceptAll(kept.Select(p => p.Id));
        await Eventually.TrueAsync(() => writer.Refused == 0, TimeSpan.FromSeconds(10), "the kept states written");
        // The lines are written after the states are taken off the kept list: wait for the last one.
        await Eventually.TrueAsync(() => log.Warnings.Any(w => w.Contains("more players' states refused by the database before", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the summary line");
        Assert.Equal(10, log.Warnings.Count(w => w.Contains("was refused by the database before and is written now", StringComparison.Ordinal)));
        Assert.Single(log.Warnings, w => w.Contains("290 more players' states refused by the database before are written now", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFullTryOfTheKeptStatesThatFailedIsMadeAgainAfterTheBackoffNotAnIntervalLater()
    {
        var refusing = new RefusingStore(_store);
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMinutes(10), new ListLogger());
        var kept = Player(0);
        refusing.Refuse(kept.Id);
        writer.Stage(kept);
        writer.Stage(Player(1));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(writer.IsRefused(kept.Id));

        // Its cause goes away, and the next flush (the kept states' first full try) meets an unreachable database; the
        // retry after the backoff makes the full try (before: its time was taken when the failed flush started, so the
        // next full try was an interval, ten minutes, later).
        refusing.Accept(kept.Id);
        refusing.UnreachableAtCall = refusing.Calls + 1;
        writer.Stage(Player(2));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((1L, false), (writer.Failures, writer.IsRefused(kept.Id)));
    }

    [Fact]
    public async Task AKeptStateWrittenInAFlushThatLeavesPartsIsFoundByNewestWhileTheNextOneRuns()
    {
        var refusing = new RefusingStore(_store);
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMinutes(10), new ListLogger(), chunkPlayers: 100);
        var kept = Player(-1);
        refusing.Refuse(kept.Id);
        writer.Stage(kept);
        writer.Stage(Player(-2));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(writer.IsRefused(kept.Id));

        // The kept player moves on and its cause goes away; in the same flush 300 refused players take more writes to
        // find than the flush has, so it leaves parts and the next flush starts at once. That one's first write is held.
        var newer = kept with { Version = 2, X = 22 };
        writer.Stage(newer);
        refusing.Accept(kept.Id);
        StageRefused(refusing, writer, refused: 300, good: 100);
        // The flush: 4 whole chunks, 3 x 64 writes taking the refused ones apart, 1 for the kept state.
        refusing.HoldAtCall = refusing.Calls + 4 + (3 * PlayerWriteBehind.MaxIsolationWrites) + 1 + 1;
        var mark = writer.ReadMark();
        var flushing = writer.FlushAsync();
        try
        {
            await refusing.Held.WaitAsync(TimeSpan.FromSeconds(10));

            // Written, no longer kept apart: a player joining now, whose row was read before that write, goes on from it
            // (before: the leftover's restage put back a last-written list without it, and Newest gave the older row).
            Assert.False(writer.IsRefused(kept.Id));
            Assert.Same(newer, writer.Newest(kept, mark));
        }
        finally
        {
            refusing.Release(); // whatever happened: the writer's loop must not stay held
        }
        await flushing.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AKeptStateThatNeverChangesIsStillTriedWhileOthersChangeEveryFlush()
    {
        var refusing = new RefusingStore(_store);
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMilliseconds(50), new ListLogger());
        writer.Stage(Player(-1));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var online = Enumerable.Range(0, 100).Select(Player).ToList();
        var offline = Player(100);
        online.ForEach(p => refusing.Refuse(p.Id));
        refusing.Refuse(offline.Id);
        online.ForEach(writer.Stage);
        writer.Stage(offline);
        Enumerable.Range(200, 20).Select(Player).ToList().ForEach(writer.Stage); // others go in: the refusals are the rows'
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(101, writer.Refused);

        // The cause of the offline player's refusal goes away; the online ones stay refused and stage a newer state
        // before every flush (before: those with a newer state always came first, and it was never tried again).
        refusing.Accept(offline.Id);
        var calls = refusing.Calls;
        var clock = Stopwatch.StartNew();
        for (var version = 2; writer.IsRefused(offline.Id) && clock.Elapsed < TimeSpan.FromSeconds(10); version++)
        {
            online.ForEach(p => writer.Stage(p with { Version = version }));
            await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10)); // every flush sees all 100 with a newer state
        }
        Assert.False(writer.IsRefused(offline.Id));
        Assert.NotNull(await _store.LoadPlayerAsync(offline.AccountId, _galaxyId));
        // Within an interval or two, at a few writes a flush (before: 64 kept states on their own at every flush, the
        // unchanged one behind all those with a newer state: about 400,000 writes over 3.4 s before it came up).
        Assert.True(refusing.Calls - calls < 20_000, $"{refusing.Calls - calls} writes");
    }

    [Fact]
    public async Task AFlushAskedForStaysAFewWritesWhileManyStatesAreKept()
    {
        var refusing = new RefusingStore(_store);
        await using var writer = new PlayerWriteBehind(refusing, TimeSpan.FromMinutes(10), new ListLogger());
        writer.Stage(Player(-1));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        StageRefused(refusing, writer, refused: 100, good: 20); // others go in: the refusals are the rows'
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        writer.Stage(Player(200));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10)); // the kept ones' full try, once an interval
        Assert.Equal(100, writer.Refused);

        // Ten leaves of one player each: one write apiece (before: 66, the kept chunk and 64 kept states on their own).
        var before = refusing.Calls;
        for (var i = 0; i < 10; i++)
        {
            writer.Stage(Player(300 + i));
            await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(10, refusing.Calls - before);
    }

    [Fact]
    public async Task ADatabaseThatStartsRefusingEveryWriteMidRunIsAnOutageAndCostsFewWrites()
    {
        var flaky = new FlakyStore(_store);
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMilliseconds(100), log, chunkPlayers: 50);
        var players = Enumerable.Range(0, 200).Select(Player).ToList();
        players.ForEach(writer.Stage);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var before = flaky.Calls;

        flaky.FailWith = new Microsoft.Data.Sqlite.SqliteException("NOT NULL constraint failed: players.shield (a schema this server does not match)", 19);
        players.ForEach(p => writer.Stage(p with { Version = 2 }));
        var waiting = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 2, TimeSpan.FromSeconds(10), "two failed flushes");

        // An outage, not 200 players set apart; each attempt is the four chunks and one chunk taken apart at most.
        Assert.Equal((0, true), (writer.Refused, writer.InOutage));
        Assert.False(waiting.IsCompleted);
        Assert.True(flaky.Calls - before <= (writer.Failures + 1) * (4 + PlayerWriteBehind.MaxIsolationWrites), $"{flaky.Calls - before} writes in {writer.Failures} failed flushes");
        Assert.Single(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));

        flaky.FailWith = null;
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2L, (await _store.LoadPlayerAsync(players[199].AccountId, _galaxyId))!.Version);
    }

    [Fact]
    public async Task ADatabaseThatRefusesEveryWriteIsAnOutageAndNobodyIsSetApart()
    {
        var flaky = new FlakyStore(_store) { FailWith = new Microsoft.Data.Sqlite.SqliteException("no such column: hull (a schema this server does not match)", 19) };
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMilliseconds(40), log, chunkPlayers: 8);
        var players = Enumerable.Range(0, 20).Select(Player).ToList();
        players.ForEach(writer.Stage);
        var waiting = writer.FlushAsync();
        await Eventually.TrueAsync(() => writer.Failures >= 2, TimeSpan.FromSeconds(10), "two failed flushes");

        Assert.Equal((0, 20, true), (writer.Refused, writer.Pending, writer.InOutage));
        Assert.False(waiting.IsCompleted);
        Assert.Single(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));

        flaky.FailWith = null;
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, writer.Refused);
        foreach (var p in players)
        {
            Assert.NotNull(await _store.LoadPlayerAsync(p.AccountId, _galaxyId));
        }
    }

    [Fact]
    public async Task ARefusedStateThatNeverWentInIsNamedAtDispose()
    {
        var log = new ListLogger();
        var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), log);
        var refused = Refusable(Player(1));
        writer.Stage(Player(0));
        writer.Stage(refused);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, writer.Refused);

        writer.Stage(refused with { Version = 2 }); // still refused: the last flush at dispose tries it once more
        await writer.DisposeAsync();
        Assert.Contains(log.Warnings, w => w.Contains("Shutting down with 1 player states the database refused", StringComparison.Ordinal) &&
            w.Contains(refused.Id.ToString(), StringComparison.Ordinal));
    }

    /// <summary>Stages <paramref name="refused"/> players that <paramref name="store"/> refuses (returned), then <paramref name="good"/> it takes.</summary>
    private List<PlayerRecord> StageRefused(RefusingStore store, PlayerWriteBehind writer, int refused, int good)
    {
        var players = Enumerable.Range(0, refused).Select(Player).ToList();
        players.ForEach(p => store.Refuse(p.Id));
        players.ForEach(writer.Stage);
        Enumerable.Range(refused, good).Select(Player).ToList().ForEach(writer.Stage);
        return players;
    }

    /// <summary><paramref name="player"/> with an item twice in its hold: the database refuses it (the inventory's key).</summary>
    private static PlayerRecord Refusable(PlayerRecord player) =>
        player with { Inventory = [new InventoryItem("ore", 1), new InventoryItem("ore", 2)] };

    private PlayerRecord Player(int n) => new()
    {
        Id = Guid.NewGuid(),
        AccountId = Guid.NewGuid(),
        GalaxyId = _galaxyId,
        Zone = ZoneId.ForSystem(1 + (n % 10)),
        ShipType = "scout",
        Hull = 100,
        HomeSystemId = 1,
        Credits = 1000,
        Version = 1,
        UpdatedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>Timestamps that move only when told (timers are the system's).</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _now = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _now);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _now, by.Ticks);
    }

    /// <summary>Records each save (ids, and the pacer's tick count when it started); <see cref="FailCall"/> fails that call once.</summary>
    private sealed class RecordingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private readonly List<(int Count, Guid[] Ids, long TicksSeen)> _saved = [];
        private int _calls;

        public int FailCall { get; init; }

        public TickPacer? Pacer { get; init; }

        public IReadOnlyList<(int Count, Guid[] Ids, long TicksSeen)> Saved
        {
            get
            {
                lock (_saved)
                {
                    return [.. _saved];
                }
            }
        }

        public override async Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _calls) == FailCall)
            {
                throw new StoreUnavailableException("cannot reach the database (test)");
            }
            var ticks = Pacer?.TicksSeen ?? 0;
            await base.SavePlayersAsync(players, cancellationToken);
            lock (_saved)
            {
                _saved.Add((players.Count, [.. players.Select(p => p.Id)], ticks));
            }
        }
    }

    /// <summary>Fails every save while <see cref="Down"/> (as an unreachable database) or with <see cref="FailWith"/>; counts the calls.</summary>
    private sealed class FlakyStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private int _calls;

        public volatile bool Down;

        public Exception? FailWith { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public override Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return Down ? throw new StoreUnavailableException("cannot reach the database at 127.0.0.1:5432/sol: Connection refused")
                : FailWith is { } e ? throw e
                : base.SavePlayersAsync(players, cancellationToken);
        }

        public override Task ProbePlayerWriteAsync(PlayerRecord player, CancellationToken cancellationToken = default) =>
            Down ? throw new StoreUnavailableException("cannot reach the database at 127.0.0.1:5432/sol: Connection refused")
                : FailWith is { } e ? throw e
                : base.ProbePlayerWriteAsync(player, cancellationToken);
    }

    /// <summary>
    /// Refuses (as SQLite's CONSTRAINT) every save holding a player it was told to refuse, or every save at all from call
    /// <see cref="RefuseAllFromCall"/> on while <see cref="RefuseAll"/>; is unreachable once, at call
    /// <see cref="UnreachableAtCall"/>; counts the calls.
    /// </summary>
    private sealed class RefusingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, bool> _refused = new();
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public int RefuseAllFromCall { get; set; }

        public volatile bool RefuseAll = true;

        public int UnreachableAtCall { get; set; }

        /// <summary>The call that waits for <see cref="Release"/> (<see cref="Held"/>: it started).</summary>
        public int HoldAtCall { get; set; }

        public Task Held => _held.Task;

        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        public void Refuse(Guid player) => _refused[player] = true;

        public void Accept(Guid player) => _refused.TryRemove(player, out _);

        /// <summary>Accepts all of <paramref name="players"/> at once: no write sees some of them accepted and others not.</summary>
        public void AcceptAll(IEnumerable<Guid> players)
        {
            lock (_refused)
            {
                foreach (var player in players)
                {
                    _refused.TryRemove(player, out _);
                }
            }
        }

        public override async Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default)
        {
            var call = Interlocked.Increment(ref _calls);
            if (call == UnreachableAtCall)
            {
                throw new StoreUnavailableException("cannot reach the database (test)");
            }
            if (call == HoldAtCall)
            {
                _held.TrySetResult();
                await _gate.Task;
            }
            var all = RefuseAllFromCall > 0 && call >= RefuseAllFromCall && RefuseAll;
            bool refused;
            lock (_refused)
            {
                refused = players.Any(p => _refused.ContainsKey(p.Id));
            }
            if (all || refused)
            {
                throw new Microsoft.Data.Sqlite.SqliteException("CHECK constraint failed (test)", 19);
            }
            await base.SavePlayersAsync(players, cancellationToken);
        }

        public override Task ProbePlayerWriteAsync(PlayerRecord player, CancellationToken cancellationToken = default) =>
            (RefuseAllFromCall > 0 && Calls >= RefuseAllFromCall && RefuseAll) || _refused.ContainsKey(player.Id)
                ? throw new Microsoft.Data.Sqlite.SqliteException("CHECK constraint failed (test)", 19)
                : base.ProbePlayerWriteAsync(player, cancellationToken);
    }

    /// <summary>Takes every save and writes nothing (the write-behind's own bookkeeping under test).</summary>
    private sealed class NullStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        public override Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    /// <summary>The first save waits for <see cref="Release"/> (<see cref="Entered"/>: it started); counts the calls.</summary>
    private sealed class HeldStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public Task Entered => _entered.Task;

        public int Calls => Volatile.Read(ref _calls);

        public void Release() => _gate.TrySetResult();

        public override async Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                _entered.TrySetResult();
                await _gate.Task;
            }
            await base.SavePlayersAsync(players, cancellationToken);
        }
    }
}

/// <summary>A logger whose every call throws, as a broken logging provider's does.</summary>
internal sealed class ThrowingLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        throw new InvalidOperationException("the logging provider failed (test)");
}

/// <summary>A logger that keeps warnings for assertions.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<string> _warnings = [];

    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
            {
                return [.. _warnings];
            }
        }
    }

    /// <summary>Warnings and errors logged with an exception (a stack trace in the log).</summary>
    public int WithException { get; private set; }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Warning)
        {
            lock (_warnings)
            {
                _warnings.Add(formatter(state, exception));
                WithException += exception is null ? 0 : 1;
            }
        }
    }
}
