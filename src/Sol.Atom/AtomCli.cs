namespace Sol.Atom;

/// <summary>The <c>atom</c> command line.</summary>
public static class AtomCli
{
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Console.Error.WriteLine("atom: under construction");
        return 2;
    }
}
