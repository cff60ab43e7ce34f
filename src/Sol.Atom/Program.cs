using Sol.Atom;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await AtomCli.RunAsync(args, Console.Out, Console.Error, cancel.Token);
