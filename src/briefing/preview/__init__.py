"""The live preview (`briefing serve`): the viewed edition re-rendered first on every
save, shown in a browser that reloads itself."""
