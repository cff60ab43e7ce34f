namespace Sol.Core.Galaxy;

/// <summary>
/// A warp gate at <see cref="X"/>/<see cref="Y"/> in its system. It leads to <see cref="TargetSystemId"/>, where
/// <see cref="PartnerGateId"/> leads back: gates always come in pairs.
/// </summary>
public readonly record struct Gate(int Id, int SystemId, double X, double Y, int TargetSystemId, int PartnerGateId);
