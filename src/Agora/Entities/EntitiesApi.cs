namespace Agora.Entities;

internal static class EntitiesApi
{
    public static RouteGroupBuilder MapEntities(this RouteGroupBuilder group) => group;
}
