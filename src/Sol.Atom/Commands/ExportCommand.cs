using System.CommandLine;
using Sol.Atom.Export;

namespace Sol.Atom.Commands;

/// <summary><c>atom export</c>: a galaxy as JSON (documented in docs/atom.md) or as a Graphviz DOT map.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var db = CommonOptions.Database();
        var name = CommonOptions.Name(required: false);
        var format = new Option<string>("--format") { Description = "json or dot", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "dot");
        var file = new Option<FileInfo?>("--out", "-o") { Description = "Write to this file instead of stdout" };
        var command = new Command("export", "Export a galaxy as JSON or Graphviz DOT") { db, name, format, file };
        command.SetAction((parse, cancellationToken) => CommonOptions.WithStoreAsync(parse.GetValue(db)!, error, async store =>
        {
            var galaxyName = parse.GetValue(name)!;
            var loaded = await store.LoadGalaxyAsync(galaxyName, cancellationToken).ConfigureAwait(false);
            if (loaded is not { } found)
            {
                return await CommonOptions.UnknownGalaxyAsync(error, galaxyName).ConfigureAwait(false);
            }
            var target = parse.GetValue(file);
            var stream = target is null ? null : target.Create();
            await using (stream)
            {
                var writer = stream is null ? output : new StreamWriter(stream);
                if (parse.GetValue(format) == "dot")
                {
                    await GalaxyDotWriter.WriteAsync(found.Model, writer, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await GalaxyJsonWriter.WriteAsync(found.Summary, found.Model, writer, cancellationToken).ConfigureAwait(false);
                }
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (stream is not null)
                {
                    await writer.DisposeAsync().ConfigureAwait(false);
                }
            }
            return AtomCli.Ok;
        }, cancellationToken));
        return command;
    }
}
