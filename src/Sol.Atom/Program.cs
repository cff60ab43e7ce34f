return Sol.Atom.AtomCli.Run(args);
