// The `sol` server: wiring only. The joining issue (#5) fills it; until then it states so and exits non-zero.
Console.Error.WriteLine("sol: the game server is not built yet (see issue 5); use `atom` to generate a galaxy.");
return 1;
