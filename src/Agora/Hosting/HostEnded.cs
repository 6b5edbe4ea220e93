namespace Agora.Hosting;

/// Completes once the server has stopped and every service it made has been disposed, with their last writes
/// (the market's usage counts, the tenants' stores) done. ASP.NET Core's test host returns from its own disposal
/// while the application's RunAsync may still be disposing them: the tests wait for this before they delete a
/// test's data folder or drop its database schema.
internal sealed class HostEnded
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _ended.Task;

    public void Complete() => _ended.TrySetResult();
}
