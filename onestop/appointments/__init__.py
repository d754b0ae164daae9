"""预约服务 on the web: booking pages for residents' phones, the booking API, kiosk check-in."""
