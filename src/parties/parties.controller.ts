import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { ApiErrorDto } from '../common/api-error.dto';
import { CreatePartyDto, PartyDto, PartyIdParam, UpdatePartyDto } from './dto';
import { PartiesService } from './parties.service';

@ApiTags('parties')
@ApiBearerAuth()
@Controller('parties')
export class PartiesController {
  constructor(private readonly parties: PartiesService) {}

  @RequirePermission(Permission.PartiesRead)
  @Get()
  @ApiOperation({ summary: 'The managed list of political parties' })
  @ApiOkResponse({ type: [PartyDto] })
  list(): Promise<PartyDto[]> {
    return this.parties.list();
  }

  @RequirePermission(Permission.PartiesManage)
  @Post()
  @ApiOperation({ summary: 'Add a party (administrators)' })
  @ApiCreatedResponse({ type: PartyDto })
  @ApiConflictResponse({ type: ApiErrorDto })
  create(@Body() dto: CreatePartyDto): Promise<PartyDto> {
    return this.parties.create(dto.name, dto.abbreviation);
  }

  @RequirePermission(Permission.PartiesManage)
  @Patch(':id')
  @ApiOperation({ summary: 'Rename or deactivate a party (administrators)' })
  @ApiOkResponse({ type: PartyDto })
  update(@Param() p: PartyIdParam, @Body() dto: UpdatePartyDto): Promise<PartyDto> {
    return this.parties.update(p.id, dto);
  }
}
