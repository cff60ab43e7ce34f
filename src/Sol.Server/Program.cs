using Sol.Server.Cli;

return await SolCli.RunAsync(args, Console.Out, Console.Error);
