using Agora.CsourceSubscriptions;
using Agora.Discovery;
using Agora.Entities;
using Agora.Hosting;
using Agora.JsonLd;
using Agora.Market;
using Agora.Registrations;
using Agora.Security;
using Agora.Subscriptions;
using Agora.Temporal;

if (!AgoraCommandLine.TryParse(args, out var verb, out var hostArgs))
{
    return 2;
}
if (verb == "admin")
{
    return AdminCommand.Run(hostArgs, Console.Out, Console.Error);
}

// The binary's folder is the content root, so its appsettings.json applies wherever Agora is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = hostArgs, ContentRootPath = AppContext.BaseDirectory });
builder.AddAgora();
builder.AddSecurity();
builder.AddSubscriptions();
builder.AddCsourceSubscriptions();
builder.AddTemporal();
builder.AddMarket();

var app = builder.Build();
app.UseAgora();
app.UseSecurity();
app.UseMarket();

var ngsiLd = app.MapGroup("/ngsi-ld/v1");
ngsiLd.MapQueries();
ngsiLd.MapEntities();
ngsiLd.MapBatchOperations();
ngsiLd.MapDiscovery();
ngsiLd.MapJsonLdContexts();
ngsiLd.MapSubscriptions();
ngsiLd.MapRegistrations();
ngsiLd.MapCsourceSubscriptions();
ngsiLd.MapTemporal();
app.MapSecurityAdmin();
app.MapMarket();
app.MapCatalogue();

var ended = app.Services.GetRequiredService<HostEnded>();
await app.RunAsync();
ended.Complete();
return Environment.ExitCode;

public partial class Program;
