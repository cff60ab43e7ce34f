// The load generator. Issue 7 fills it; until then it states so and exits non-zero.
Console.Error.WriteLine("loadgen: not built yet (see issue 7).");
return 1;
