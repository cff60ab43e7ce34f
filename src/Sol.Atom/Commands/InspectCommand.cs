using System.CommandLine;
using System.Globalization;
using System.Text;
using Sol.Core.Galaxy;

namespace Sol.Atom.Commands;

/// <summary><c>atom inspect</c>: counts, the gate-degree histogram, the graph's diameter and the verified content hash.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var db = CommonOptions.Database();
        var name = CommonOptions.Name(required: false);
        var command = new Command("inspect", "Show a galaxy's shape and verify its content hash") { db, name };
        command.SetAction((parse, cancellationToken) => CommonOptions.WithStoreAsync(parse.GetValue(db)!, create: false, error, async store =>
        {
            var galaxyName = parse.GetValue(name)!;
            // Loading recomputes the content hash and refuses a galaxy whose rows do not match it.
            var loaded = await store.LoadGalaxyAsync(galaxyName, cancellationToken).ConfigureAwait(false);
            if (loaded is not { } found)
            {
                return await CommonOptions.UnknownGalaxyAsync(error, galaxyName).ConfigureAwait(false);
            }
            var (summary, galaxy) = found;
            var stats = GalaxyStatistics.Compute(galaxy);
            var p = summary.Parameters;
            var text = new StringBuilder();
            var c = CultureInfo.InvariantCulture;
            text.AppendLine(c, $"galaxy        {summary.Name}");
            text.AppendLine(c, $"store         {store.Description}");
            text.AppendLine(c, $"created       {summary.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
            text.AppendLine(c, $"parameters    --zones {p.Zones} --planets {p.Planets} --stars {p.Stars} --gates {p.Gates} --seed {p.Seed}");
            text.AppendLine(c, $"systems       {stats.Systems:N0}");
            text.AppendLine(c, $"stars         {stats.Stars:N0}");
            text.AppendLine(c, $"planets       {stats.Planets:N0}");
            text.AppendLine(c, $"gates         {stats.Gates:N0} ({stats.Gates / 2:N0} links)");
            text.AppendLine(c, $"connected     {(stats.Connected ? "yes" : "NO")}");
            text.AppendLine(c, $"diameter      {(stats.DiameterExact ? "" : ">= ")}{stats.Diameter} jumps{(stats.DiameterExact ? "" : " (lower bound: exact above " + GalaxyStatistics.ExactDiameterLimit.ToString("N0", c) + " systems is too slow)")}");
            text.AppendLine(c, $"link length   {stats.MeanLinkLength:0.0} ly mean (nearest neighbour {stats.MeanNearestDistance:0.0} ly mean)");
            text.AppendLine("gate degrees");
            var widest = stats.DegreeHistogram.Max();
            for (var d = 0; d < stats.DegreeHistogram.Length; d++)
            {
                var n = stats.DegreeHistogram[d];
                if (n > 0)
                {
                    text.AppendLine(c, $"  {d} gates   {n,9:N0}  {new string('#', Math.Max(1, (int)Math.Round(40.0 * n / widest)))}");
                }
            }
            text.AppendLine(c, $"content hash  {galaxy.ContentHash} (verified)");
            await output.WriteAsync(text.ToString()).ConfigureAwait(false);
            return AtomCli.Ok;
        }, cancellationToken));
        return command;
    }
}
