using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Sol.Persistence;
using Sol.Testing;

namespace Sol.Atom.Tests;

public sealed class AtomCliTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string Db => _directory.File("data/sol.db");

    [Fact]
    public async Task GenerateStoresAGalaxyThatListAndInspectShow()
    {
        var (code, output, error) = await AtomAsync("generate", "--db", Db, "--name", "milky", "--zones", "120", "--seed", "42", "--quiet");
        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains("generated galaxy 'milky' (seed 42)", output, StringComparison.Ordinal);

        (code, output, _) = await AtomAsync("list", "--db", Db);
        Assert.Equal(0, code);
        Assert.Contains("milky", output, StringComparison.Ordinal);

        (code, output, _) = await AtomAsync("inspect", "--db", Db, "--name", "milky");
        Assert.Equal(0, code);
        Assert.Contains("systems       120", output, StringComparison.Ordinal);
        Assert.Contains("connected     yes", output, StringComparison.Ordinal);
        Assert.Contains("(verified)", output, StringComparison.Ordinal);
        Assert.Matches(@"diameter      \d+ jumps", output);
    }

    [SkippableFact]
    public async Task TheSameSeedGivesTheSameHashInSqliteAndPostgres()
    {
        var postgres = await PostgresDatabase.CreateAsync("atom");
        Skip.If(postgres is null, "no PostgreSQL cluster configured");
        var (code1, sqliteOut, _) = await AtomAsync("generate", "--db", Db, "--zones", "500", "--seed", "9", "--quiet");
        var (code2, postgresOut, _) = await AtomAsync("generate", "--db", postgres!, "--zones", "500", "--seed", "9", "--quiet");
        Assert.Equal((0, 0), (code1, code2));
        Assert.Equal(Hash(sqliteOut), Hash(postgresOut));
        await using var a = await SolStore.OpenAsync(Db);
        await using var b = await SolStore.OpenAsync(postgres!);
        Assert.Equal((await a.LoadGalaxyAsync("main"))!.Value.Model.ContentHash, (await b.LoadGalaxyAsync("main"))!.Value.Model.ContentHash);

        static string Hash(string output) => output[(output.IndexOf("hash ", StringComparison.Ordinal) + 5)..][..64];
    }

    [Fact]
    public async Task ProgressGoesToStderrUnlessQuiet()
    {
        var (code, _, error) = await AtomAsync("generate", "--db", Db, "--zones", "50", "--seed", "1");
        Assert.Equal(0, code);
        Assert.Contains("linking gates", error, StringComparison.Ordinal);
        Assert.Contains("publishing", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExistingNameNeedsReplaceAndReplaceSwapsIt()
    {
        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "30", "--seed", "1", "--quiet")).Code);
        var (code, _, error) = await AtomAsync("generate", "--db", Db, "--zones", "40", "--seed", "2", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));

        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "40", "--seed", "2", "--replace", "--quiet")).Code);
        var (_, inspect, _) = await AtomAsync("inspect", "--db", Db);
        Assert.Contains("systems       40", inspect, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplacingAGalaxyInADatabaseARunningServerHoldsIsRefused()
    {
        // The server would go on serving the galaxy deleted under it, and save its players against it (helper-71).
        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "30", "--seed", "1", "--quiet")).Code);
        await using (await Sol.Persistence.SolStore.OpenAsync(Db, exclusive: true)) // what a running server holds
        {
            var (code, _, error) = await AtomAsync("generate", "--db", Db, "--zones", "40", "--seed", "2", "--replace", "--quiet");
            Assert.Equal(1, code);
            Assert.Equal($"atom: the database {Path.GetFullPath(Db)} is in use by another process ({Path.GetFullPath(Db)}.lock is locked: a running server, or atom replacing a galaxy): stop it first, or use another --db", error.Trim());
            // Reading and adding another galaxy are not refused.
            Assert.Equal(0, (await AtomAsync("list", "--db", Db)).Code);
            Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--name", "second", "--zones", "30", "--seed", "3", "--quiet")).Code);
        }
        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "40", "--seed", "2", "--replace", "--quiet")).Code);
    }

    [SkippableFact]
    public async Task ReplacingAGalaxyAServerServesOnPostgresIsRefused()
    {
        // The SQLite file's lock (above) on a shared database: before, atom deleted the galaxy under the server.
        var postgres = await PostgresDatabase.CreateAsync("atom");
        Skip.If(postgres is null, "no PostgreSQL cluster configured");
        Assert.Equal(0, (await AtomAsync("generate", "--db", postgres!, "--zones", "20", "--seed", "1", "--quiet")).Code);
        await using var store = await SolStore.OpenAsync(postgres!);
        var galaxy = (await store.FindGalaxyAsync("main"))!;
        var served = await store.TakeGalaxyLeaseAsync(galaxy.Id, "game-host:77:0123abcd", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30));

        var (code, _, error) = await AtomAsync("generate", "--db", postgres!, "--zones", "25", "--seed", "2", "--replace", "--quiet");
        Assert.Equal(1, code);
        Assert.Equal(
            $"atom: the galaxy 'main' is served by game-host:77:0123abcd (its lease runs until {served.Until.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC unless renewed): stop that server first (one that was killed lets its lease run out)",
            error.Trim());
        Assert.Equal(galaxy.Id, (await store.FindGalaxyAsync("main"))!.Id);

        await store.ReleaseGalaxyLeaseAsync(galaxy.Id, "game-host:77:0123abcd"); // the server stopped
        Assert.Equal(0, (await AtomAsync("generate", "--db", postgres!, "--zones", "25", "--seed", "2", "--replace", "--quiet")).Code);
        var replaced = (await store.FindGalaxyAsync("main"))!;
        Assert.NotEqual(galaxy.Id, replaced.Id);
        Assert.Equal("next", (await store.TakeGalaxyLeaseAsync(replaced.Id, "next", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30))).Holder); // atom left none
        Assert.Equal("other", (await store.TakeGalaxyLeaseAsync(galaxy.Id, "other", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30))).Holder);
    }

    [Theory]
    [InlineData("MIN is greater than MAX", "generate", "--planets", "6..1")]
    [InlineData("MIN is greater than MAX", "generate", "--gates", "3..2")]
    [InlineData("too few for --gates", "generate", "--zones", "3", "--gates", "3..4")]
    [InlineData("cannot be negative", "generate", "--stars", "-1..2")]
    [InlineData("--zones must be a whole number from 1 to 1000000 (got '0')", "generate", "--zones", "0")]
    [InlineData("--zones must be a whole number from 1 to 1000000 (got '-5')", "generate", "--zones", "-5")]
    [InlineData("is not a range", "generate", "--planets", "few")]
    [InlineData("--zones must be a whole number from 1 to 1000000 (got 'many')", "generate", "--zones", "many")]
    [InlineData("--zones must be a whole number from 1 to 1000000 (got '99999999999')", "generate", "--zones", "99999999999")]
    [InlineData("--zones must be a whole number from 1 to 1000000 (got '1,000')", "generate", "--zones", "1,000")]
    [InlineData("--zones must be a whole number from 1 to 1000000 (got '1000001')", "generate", "--zones", "1000001")]
    [InlineData("--seed must be a whole number from 0 to 18446744073709551615 (got 'abc')", "generate", "--seed", "abc")]
    [InlineData("--seed must be a whole number from 0 to 18446744073709551615 (got '-1')", "generate", "--seed", "-1")]
    [InlineData("--seed must be a whole number from 0 to 18446744073709551615 (got '18446744073709551616')", "generate", "--seed", "18446744073709551616")]
    [InlineData("atom: --db cannot be empty (give a SQLite file path, or a postgresql:// or cockroachdb:// URL) (see 'atom list --help')", "list", "--db", "")]
    [InlineData("atom: --db cannot be empty (give a SQLite file path, or a postgresql:// or cockroachdb:// URL) (see 'atom generate --help')", "generate", "--db", " ")]
    [InlineData("Unrecognized command or argument", "frobnicate")]
    [InlineData("Unrecognized command or argument '--colour'", "list", "--colour")]
    [InlineData("'xml' not recognized", "export", "--format", "xml")]
    [InlineData("unknown scheme", "list", "--db", "mysql://root@127.0.0.1/sol")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not '99999999999'", "list", "--db", "postgresql://root@127.0.0.1/sol?connect_timeout=99999999999")]
    public async Task BadInputIsOneLineOnStderrAndExitCode2(string expected, params string[] args)
    {
        var (code, output, error) = await AtomAsync([.. args, .. args.Contains("--db") ? Array.Empty<string>() : ["--db", Db]]);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal); // no .NET type names
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task AFlagGivenTwiceIsOneLineAndExitCode2()
    {
        // Before: the second --zones, without a value, was let through and 10 systems generated.
        var (code, output, error) = await AtomAsync("generate", "--db", Db, "--seed", "1", "--quiet", "--zones", "10", "--zones");
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Equal("atom: --zones is given more than once (see 'atom generate --help')", error.Trim());
        Assert.False(File.Exists(Db));

        (code, _, error) = await AtomAsync("export", "--db", Db, "--format", "dot", "--format", "json");
        Assert.Equal(2, code);
        Assert.Equal("atom: --format is given more than once (see 'atom export --help')", error.Trim());
    }

    [Theory]
    [InlineData("help")]
    [InlineData("help", "generate")]
    public async Task HelpPrintsTheHelp(params string[] args)
    {
        var (code, output, error) = await AtomAsync(args);
        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Contains(args.Length == 1 ? "inspect" : "--zones", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("inspect")]
    [InlineData("export")]
    public async Task AReadingCommandMakesNoDatabase(string command)
    {
        // Before: the folder and an empty database were made, and list said "no galaxies in" it.
        var (code, output, error) = await AtomAsync(command, "--db", Db);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Equal($"atom: no database at {Db} (create one with 'atom generate')", error.Trim());
        Assert.False(Directory.Exists(Path.GetDirectoryName(Db)));

        (code, _, error) = await AtomAsync(command, "--db", "sqlite:" + Db);
        Assert.Equal(2, code);
        Assert.Equal($"atom: no database at {Db} (create one with 'atom generate')", error.Trim());
        Assert.False(Directory.Exists(Path.GetDirectoryName(Db)));
    }

    [Fact]
    public async Task AnUnknownGalaxyIsBadInput()
    {
        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "10", "--seed", "1", "--quiet")).Code); // a database, without it
        var (code, _, error) = await AtomAsync("inspect", "--db", Db, "--name", "nowhere");
        Assert.Equal(2, code);
        Assert.Contains("no galaxy named 'nowhere'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsOneLineAndExitCode1()
    {
        var (code, output, error) = await AtomAsync("generate", "--db", "postgresql://sol@127.0.0.1:1/sol?connect_timeout=3", "--zones", "10");
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Equal("atom: cannot reach the database at 127.0.0.1:1/sol: Connection refused", error.Trim());
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("export")]
    public async Task AGalaxyFailingItsHashCheckIsOneLineAndExitCode1(string command)
    {
        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "30", "--seed", "4", "--quiet")).Code);
        await using (var connection = new SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE planets SET radius = radius + 1 WHERE id = 3";
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }
        var (code, output, error) = await AtomAsync(command, "--db", Db);
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Matches("^atom: galaxy 'main' is corrupt: its content hashes to [0-9a-f]{64}, not the stored [0-9a-f]{64}$", error.Trim());
    }

    [Theory]
    [InlineData("list")]
    [InlineData("inspect")]
    public async Task ASqliteFileWithDamagedPagesIsOneLineAndExitCode1(string command)
    {
        Assert.Equal(0, (await AtomAsync("generate", "--db", Db, "--zones", "200", "--seed", "1", "--quiet")).Code);
        SqliteConnection.ClearAllPools(); // the last connection checkpoints the WAL into the file
        // The schema and the small tables come first in the file, the galaxy's rows after them: garbage over the second
        // half keeps the header and the schema readable (the store opens) and damages the rows the command reads.
        const int page = 4096;
        await using (var file = new FileStream(Db, FileMode.Open, FileAccess.Write))
        {
            var half = file.Length / page / 2 * page;
            file.Position = half;
            var garbage = new byte[file.Length - half];
            Array.Fill(garbage, (byte)0x5A);
            await file.WriteAsync(garbage);
        }
        var (code, _, error) = await AtomAsync(command, "--db", Db);
        Assert.Equal(1, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("atom: database error in sqlite:", error, StringComparison.Ordinal);
        Assert.Contains("database disk image is malformed", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task APostgresCommandTimeoutIsOneLineAndExitCode1()
    {
        var postgres = await PostgresDatabase.CreateAsync("atom");
        Skip.If(postgres is null, "no PostgreSQL cluster configured");
        Assert.Equal(0, (await AtomAsync("generate", "--db", postgres!, "--zones", "20", "--seed", "1", "--quiet")).Code);
        var impatient = new NpgsqlConnectionStringBuilder(postgres) { CommandTimeout = 1 }.ConnectionString;
        // Another session holds the galaxies table: atom's query waits until its 1 s command timeout.
        await using var holder = new NpgsqlConnection(postgres);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE galaxies IN ACCESS EXCLUSIVE MODE", holder, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }
        var (code, output, error) = await AtomAsync("list", "--db", impatient);
        await transaction.RollbackAsync();
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("atom: the database postgresql:127.0.0.1:", error, StringComparison.Ordinal); // not "cockroach:": a PostgreSQL server answered
        Assert.Contains("did not answer in time", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportToAMissingFolderOrAFolderIsBadInput()
    {
        await AtomAsync("generate", "--db", Db, "--zones", "10", "--seed", "1", "--quiet");
        var missing = _directory.File("no/such/folder/x.json");
        var (code, output, error) = await AtomAsync("export", "--db", Db, "--out", missing);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Equal($"atom: --out: the folder '{Path.GetDirectoryName(missing)}' does not exist", error.Trim());

        (code, output, error) = await AtomAsync("export", "--db", Db, "--out", _directory.Path);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Equal($"atom: --out: '{_directory.Path}' is a folder, not a file", error.Trim());
    }

    [SkippableFact]
    public async Task AnExportThatCannotBeWrittenIsOneLineAndExitCode1()
    {
        Skip.IfNot(File.Exists("/dev/full"), "no /dev/full on this system");
        await AtomAsync("generate", "--db", Db, "--zones", "10", "--seed", "1", "--quiet");
        var (code, output, error) = await AtomAsync("export", "--db", Db, "--out", "/dev/full");
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("atom: cannot write /dev/full: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportingOverAnOldFileReplacesItAndLeavesNoTemporaryFile()
    {
        await AtomAsync("generate", "--db", Db, "--zones", "10", "--seed", "1", "--quiet");
        var file = _directory.File("galaxy.json");
        await File.WriteAllTextAsync(file, "an older export");
        Assert.Equal(0, (await AtomAsync("export", "--db", Db, "--out", file)).Code);
        Assert.StartsWith("{", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal([file], Directory.GetFiles(Path.GetDirectoryName(file)!, "*galaxy.json*"));
    }

    [Fact]
    public async Task JsonExportHasTheDocumentedShape()
    {
        await AtomAsync("generate", "--db", Db, "--zones", "25", "--seed", "5", "--quiet");
        var file = _directory.File("galaxy.json");
        Assert.Equal(0, (await AtomAsync("export", "--db", Db, "--format", "json", "--out", file)).Code);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        var root = document.RootElement;
        Assert.Equal("main", root.GetProperty("name").GetString());
        Assert.Equal(64, root.GetProperty("contentHash").GetString()!.Length);
        Assert.Equal(5UL, root.GetProperty("parameters").GetProperty("seed").GetUInt64());
        var systems = root.GetProperty("systems");
        Assert.Equal(25, systems.GetArrayLength());
        var first = systems[0];
        Assert.Equal(1, first.GetProperty("id").GetInt32());
        Assert.True(first.GetProperty("stars").GetArrayLength() >= 1);
        var gate = first.GetProperty("gates")[0];
        Assert.True(gate.GetProperty("targetSystemId").GetInt32() > 0);
        Assert.True(gate.GetProperty("partnerGateId").GetInt32() > 0);
        foreach (var name in new[] { "name", "radius", "orbitRadius", "period", "phase" })
        {
            Assert.True(systems.EnumerateArray().SelectMany(s => s.GetProperty("planets").EnumerateArray()).All(p => p.TryGetProperty(name, out _)));
        }
    }

    [Fact]
    public async Task DotExportHasANodePerSystemAndAnEdgePerGatePair()
    {
        await AtomAsync("generate", "--db", Db, "--zones", "25", "--seed", "5", "--quiet");
        var (code, output, _) = await AtomAsync("export", "--db", Db, "--format", "dot");
        Assert.Equal(0, code);
        Assert.StartsWith("graph \"main\" {", output, StringComparison.Ordinal);
        var lines = output.Split('\n');
        Assert.Equal(25, lines.Count(l => l.Contains("pos=", StringComparison.Ordinal)));
        await using var store = await SolStore.OpenAsync(Db);
        var galaxy = (await store.LoadGalaxyAsync("main"))!.Value.Model;
        Assert.Equal(galaxy.Gates.Length / 2, lines.Count(l => l.Contains(" -- ", StringComparison.Ordinal)));
    }

    private static async Task<(int Code, string Output, string Error)> AtomAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AtomCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
