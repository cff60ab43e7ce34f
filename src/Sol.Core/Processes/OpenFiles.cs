using System.Globalization;

namespace Sol.Core.Processes;

/// <summary>This process's open files (descriptors): its limit (<c>ulimit -n</c>) and how many are open, from /proc.</summary>
public static class OpenFiles
{
    /// <summary>The open-file limit (soft; the .NET runtime raises it to the hard one at start), or null when unknown (not Linux) or unlimited.</summary>
    public static long? Limit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>The files this process has open now, or null when unknown.</summary>
    public static int? Count()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
