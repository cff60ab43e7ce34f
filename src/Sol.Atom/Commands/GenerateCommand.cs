using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sol.Core.Cli;
using Sol.Core.Galaxy;
using Sol.Persistence;

namespace Sol.Atom.Commands;

/// <summary><c>atom generate</c>: a seeded, deterministic galaxy into a store, published all or nothing.</summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var db = CommonOptions.Database();
        var name = CommonOptions.Name(required: false);
        var zones = FlagValues.Whole("--zones", "Number of solar systems", 1, GalaxyLimits.MaxZones, 200);
        var planets = CommonOptions.Range("--planets", "Planets per system", new IntRange(1, 6));
        var stars = CommonOptions.Range("--stars", "Stars per system", new IntRange(1, 2));
        var gates = CommonOptions.Range("--gates", "Warp gates per system", new IntRange(2, 3));
        var seed = FlagValues.Seed("Seed of the generator (default: a random one, printed)");
        var replace = new Option<bool>("--replace") { Description = "Replace a galaxy of the same name (its players' progress goes with it)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr" };

        var command = new Command("generate", "Generate a galaxy into the database") { db, name, zones, planets, stars, gates, seed, replace, quiet };
        command.SetAction(async (parse, cancellationToken) =>
        {
#pragma warning disable CA5394 // A seed, not a secret.
            var parameters = new GalaxyParameters(
                parse.GetValue(zones), parse.GetValue(planets), parse.GetValue(stars), parse.GetValue(gates),
                parse.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(1, long.MaxValue));
#pragma warning restore CA5394
            if (parameters.Validate() is { } problem)
            {
                await error.WriteLineAsync($"atom: {problem}").ConfigureAwait(false);
                return AtomCli.BadInput;
            }
            var galaxyName = parse.GetValue(name)!;
            if (string.IsNullOrWhiteSpace(galaxyName))
            {
                await error.WriteLineAsync("atom: --name cannot be empty").ConfigureAwait(false);
                return AtomCli.BadInput;
            }
            var clock = Stopwatch.StartNew();
            var progress = parse.GetValue(quiet) ? null : new LineProgress(error, clock);

            return await CommonOptions.WithStoreAsync(parse.GetValue(db)!, create: true, error, async store =>
            {
                // Fail fast, before generating, when the name is taken; the store checks again when it publishes.
                if (!parse.GetValue(replace) && await store.FindGalaxyAsync(galaxyName, cancellationToken).ConfigureAwait(false) is not null)
                {
                    await error.WriteLineAsync($"atom: a galaxy named '{galaxyName}' already exists in {store.Description} (use --replace to overwrite it)").ConfigureAwait(false);
                    return AtomCli.BadInput;
                }
                // Replacing a galaxy a server serves would delete it under that server; on a shared database the server's
                // lease on it says so (a SQLite file is locked instead). Atom holds the lease while it replaces.
                Guid? leased = null;
                var holder = string.Create(CultureInfo.InvariantCulture, $"atom@{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}");
                if (parse.GetValue(replace) && store.Kind == "cockroach" && await store.FindGalaxyAsync(galaxyName, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    var lease = await store.TakeGalaxyLeaseAsync(existing.Id, holder, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
                    if (lease.Holder != holder)
                    {
                        await error.WriteLineAsync(string.Create(
                            CultureInfo.InvariantCulture,
                            $"atom: the galaxy '{galaxyName}' is served by {lease.Holder} (its lease runs until {lease.Until.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC unless renewed): stop that server first (one that was killed lets its lease run out)")).ConfigureAwait(false);
                        return AtomCli.Failed;
                    }
                    leased = existing.Id;
                }
                var galaxy = GalaxyGenerator.Generate(galaxyName, parameters, progress);
                var generated = clock.Elapsed;
                try
                {
                    await store.SaveGalaxyAsync(galaxy, parse.GetValue(replace), progress, cancellationToken).ConfigureAwait(false);
                }
                catch (GalaxyExistsException e)
                {
                    await error.WriteLineAsync($"atom: {e.Message}").ConfigureAwait(false);
                    return AtomCli.BadInput;
                }
                finally
                {
                    if (leased is { } id)
                    {
                        // Gone with the old galaxy when it was deleted; else (a failure) let a server have it again. The
                        // failure is the line to tell: a database gone meanwhile leaves the lease to run out.
                        try
                        {
                            await store.ReleaseGalaxyLeaseAsync(id, holder, CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is System.Data.Common.DbException or StoreUnavailableException)
                        {
                        }
                    }
                }
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"generated galaxy '{galaxyName}' (seed {parameters.Seed}) into {store.Description}: {galaxy.Systems.Length:N0} systems, {galaxy.Stars.Length:N0} stars, " +
                    $"{galaxy.Planets.Length:N0} planets, {galaxy.Gates.Length:N0} gates; hash {galaxy.ContentHash}; " +
                    $"{clock.Elapsed.TotalSeconds:0.00} s (generate {generated.TotalSeconds:0.00} s, store {(clock.Elapsed - generated).TotalSeconds:0.00} s)")).ConfigureAwait(false);
                return AtomCli.Ok;
            }, cancellationToken, exclusive: parse.GetValue(replace)).ConfigureAwait(false);
        });
        return command;
    }
}
