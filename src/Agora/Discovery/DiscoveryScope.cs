namespace Agora.Discovery;

/// What a caller may discover when it is less than the whole tenant (a key of a market agreement): the entity
/// types and attributes it may see. Set as a request feature before discovery runs; absent, all are visible.
internal sealed record DiscoveryScope(Func<string, bool> Type, Func<string, bool> Attribute);
