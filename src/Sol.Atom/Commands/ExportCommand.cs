using System.CommandLine;
using System.Text;
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
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(file);
            // A path that cannot work is bad input, found before the database is opened.
            if (target is not null && CheckTarget(target) is { } problem)
            {
                await error.WriteLineAsync($"atom: --out: {problem}").ConfigureAwait(false);
                return AtomCli.BadInput;
            }
            return await CommonOptions.WithStoreAsync(parse.GetValue(db)!, create: false, error, async store =>
            {
                var galaxyName = parse.GetValue(name)!;
                var loaded = await store.LoadGalaxyAsync(galaxyName, cancellationToken).ConfigureAwait(false);
                if (loaded is not { } found)
                {
                    return await CommonOptions.UnknownGalaxyAsync(error, galaxyName).ConfigureAwait(false);
                }
                Func<TextWriter, Task> write = parse.GetValue(format) == "dot"
                    ? writer => GalaxyDotWriter.WriteAsync(found.Model, writer, cancellationToken)
                    : writer => GalaxyJsonWriter.WriteAsync(found.Summary, found.Model, writer, cancellationToken);
                if (target is null)
                {
                    await write(output).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return AtomCli.Ok;
                }
                return await WriteFileAsync(target.FullName, write, error, cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Why <paramref name="target"/> cannot be written to, or null: it is a folder, or its folder does not exist.</summary>
    private static string? CheckTarget(FileInfo target)
    {
        if (Directory.Exists(target.FullName))
        {
            return $"'{target.FullName}' is a folder, not a file";
        }
        var folder = Path.GetDirectoryName(target.FullName);
        if (folder is not null && !Directory.Exists(folder))
        {
            return $"the folder '{folder}' does not exist";
        }
        return null;
    }

    /// <summary>
    /// Writes the export to <paramref name="path"/>. A new file, or one replacing a file with content, is written to a
    /// temporary file beside it and moved into place, so a failed write leaves no half-written export and the old file
    /// whole. Anything else (an empty file, a symbolic link, a device such as /dev/stdout) is written in place. A write
    /// failure is one line and exit code 1.
    /// </summary>
    private static async Task<int> WriteFileAsync(string path, Func<TextWriter, Task> write, TextWriter error, CancellationToken cancellationToken)
    {
        var existing = new FileInfo(path);
        var inPlace = existing.Exists && (existing.Length == 0 || existing.LinkTarget is not null);
        var written = inPlace ? path : Path.Combine(Path.GetDirectoryName(path)!, $".{existing.Name}.{Guid.NewGuid():N}.tmp");
        try
        {
            var stream = new FileStream(written, inPlace ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                await using (writer.ConfigureAwait(false))
                {
                    await write(writer).ConfigureAwait(false);
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            if (!inPlace)
            {
                File.Move(written, path, overwrite: true);
            }
            return AtomCli.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeleteTemporary();
            await error.WriteLineAsync($"atom: cannot write {path}: {CommonOptions.OneLine(e.Message)}").ConfigureAwait(false);
            return AtomCli.Failed;
        }
        catch
        {
            DeleteTemporary();
            throw;
        }

        void DeleteTemporary()
        {
            if (!inPlace)
            {
                try
                {
                    File.Delete(written);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
