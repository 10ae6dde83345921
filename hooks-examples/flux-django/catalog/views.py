from django.http import JsonResponse

from .models import Item


def index(request):
    return JsonResponse({"items": list(Item.objects.values_list("name", flat=True))})
