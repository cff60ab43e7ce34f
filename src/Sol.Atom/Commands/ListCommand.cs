using System.CommandLine;
using System.Globalization;

namespace Sol.Atom.Commands;

/// <summary><c>atom list</c>: the galaxies in a store, one line each.</summary>
internal static class ListCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var db = CommonOptions.Database();
        var command = new Command("list", "List the galaxies in the database") { db };
        command.SetAction((parse, cancellationToken) => CommonOptions.WithStoreAsync(parse.GetValue(db)!, create: false, error, async store =>
        {
            var galaxies = await store.ListGalaxiesAsync(cancellationToken).ConfigureAwait(false);
            if (galaxies.Count == 0)
            {
                await output.WriteLineAsync($"no galaxies in {store.Description} (create one with 'atom generate')").ConfigureAwait(false);
                return AtomCli.Ok;
            }
            await output.WriteLineAsync($"{"NAME",-20} {"SYSTEMS",9} {"PLANETS",9} {"GATES",9} {"SEED",20}  CREATED (UTC)         HASH").ConfigureAwait(false);
            foreach (var g in galaxies)
            {
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{g.Name,-20} {g.Parameters.Zones,9:N0} {g.Planets,9:N0} {g.Gates,9:N0} {g.Parameters.Seed,20}  {g.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}   {g.ContentHash[..12]}")).ConfigureAwait(false);
            }
            return AtomCli.Ok;
        }, cancellationToken));
        return command;
    }
}
